// Placeholder until the file backend lands: registers the name so configuration errors are clear.
#include "backends/builtin.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

BackendInfo MakeFileBackendInfo() {
  BackendInfo info;
  info.name = "file";
  info.factory = [](const Object&) -> std::unique_ptr<Database> {
    throw Error(ErrorCode::kUnsupported, "the file backend is not implemented yet", "file");
  };
  return info;
}

}  // namespace dkdata::internal
