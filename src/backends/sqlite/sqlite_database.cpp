// Placeholder until the sqlite backend lands: registers the name so configuration errors are clear.
#include "backends/builtin.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

BackendInfo MakeSqliteBackendInfo() {
  BackendInfo info;
  info.name = "sqlite";
  info.factory = [](const Object&) -> std::unique_ptr<Database> {
    throw Error(ErrorCode::kUnsupported, "the sqlite backend is not implemented yet", "sqlite");
  };
  return info;
}

}  // namespace dkdata::internal
