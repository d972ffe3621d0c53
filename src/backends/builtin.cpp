#include "backends/builtin.hpp"

namespace dkdata::internal {

namespace {

[[maybe_unused]] BackendInfo Unavailable(std::string name, std::vector<std::string> aliases,
                                         std::vector<std::string> schemes, std::string reason) {
  BackendInfo info;
  info.name = std::move(name);
  info.aliases = std::move(aliases);
  info.url_schemes = std::move(schemes);
  info.available = false;
  info.unavailable_reason = std::move(reason);
  return info;
}

}  // namespace

std::vector<BackendInfo> BuiltinBackends() {
  std::vector<BackendInfo> out;
#if DKDATA_HAVE_MEMORY
  out.push_back(MakeMemoryBackendInfo());
#endif
#if DKDATA_HAVE_FILE
  out.push_back(MakeFileBackendInfo());
#else
  out.push_back(Unavailable("file", {}, {"file"},
                            "built without the file backend: apt-get install zlib1g-dev "
                            "libzstd-dev, then configure with -DDKDATA_BACKEND_FILE=ON"));
#endif
#if DKDATA_HAVE_SQLITE
  out.push_back(MakeSqliteBackendInfo());
#else
  out.push_back(Unavailable("sqlite", {"sqlite3"}, {"sqlite", "sqlite3"},
                            "built without the sqlite backend: apt-get install libsqlite3-dev, "
                            "then configure with -DDKDATA_BACKEND_SQLITE=ON"));
#endif
#if DKDATA_HAVE_POSTGRES
  out.push_back(MakePostgresBackendInfo());
#else
  out.push_back(Unavailable("postgres", {"postgresql", "pg"}, {"postgres", "postgresql"},
                            "built without the postgres backend: apt-get install libpq-dev, "
                            "then configure with -DDKDATA_BACKEND_POSTGRES=ON"));
#endif
#if DKDATA_HAVE_ELASTICSEARCH
  out.push_back(MakeElasticsearchBackendInfo());
#else
  out.push_back(Unavailable("elasticsearch", {"es"}, {"es", "es+http", "es+https", "elasticsearch"},
                            "built without the elasticsearch backend: apt-get install "
                            "libcurl4-openssl-dev, then configure with "
                            "-DDKDATA_BACKEND_ELASTICSEARCH=ON"));
#endif
#if DKDATA_HAVE_S3
  out.push_back(MakeS3BackendInfo());
#else
  out.push_back(
      Unavailable("s3", {}, {"s3"},
                  "built without the s3 backend: apt-get install libcurl4-openssl-dev "
                  "libpugixml-dev libssl-dev, then configure with -DDKDATA_BACKEND_S3=ON"));
#endif
  return out;
}

}  // namespace dkdata::internal
