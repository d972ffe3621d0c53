#include "backends/builtin.hpp"

namespace dkdata::internal {

std::vector<BackendInfo> BuiltinBackends() {
  std::vector<BackendInfo> out;
#if DKDATA_HAVE_MEMORY
  out.push_back(MakeMemoryBackendInfo());
#endif
  return out;
}

}  // namespace dkdata::internal
