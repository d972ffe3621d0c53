// src/backends/builtin.hpp: the backends compiled into this build, registered with the
// BackendRegistry on first use. Each enabled backend folder defines its Make...BackendInfo();
// CMake defines DKDATA_HAVE_<NAME> for the enabled ones.
#pragma once

#include <vector>

#include "dkdata/factory.hpp"

namespace dkdata::internal {

BackendInfo MakeMemoryBackendInfo();
BackendInfo MakeFileBackendInfo();
BackendInfo MakeSqliteBackendInfo();
BackendInfo MakePostgresBackendInfo();
BackendInfo MakeElasticsearchBackendInfo();
BackendInfo MakeS3BackendInfo();

// Every backend this build knows about; one built without its dependency is listed with
// available = false and a reason saying what to install.
std::vector<BackendInfo> BuiltinBackends();

}  // namespace dkdata::internal
