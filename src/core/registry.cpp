#include <algorithm>
#include <cctype>

#include "backends/builtin.hpp"
#include "core/url_text.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"

namespace dkdata {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

struct Registry {
  std::vector<std::unique_ptr<BackendInfo>> backends;
};

void AddBackend(Registry& registry, BackendInfo info) {
  for (auto& existing : registry.backends) {
    if (EqualsIgnoreCase(existing->name, info.name)) {
      *existing = std::move(info);
      return;
    }
  }
  registry.backends.push_back(std::make_unique<BackendInfo>(std::move(info)));
}

// Starts with the backends compiled into this build (src/backends/builtin.hpp).
Registry& TheRegistry() {
  static Registry registry = [] {
    Registry r;
    for (BackendInfo& info : internal::BuiltinBackends()) AddBackend(r, std::move(info));
    return r;
  }();
  return registry;
}

std::string KnownBackendNames() {
  std::string names;
  for (const auto& b : TheRegistry().backends) {
    if (!names.empty()) names += ", ";
    names += b->name;
  }
  return names;
}

}  // namespace

void BackendRegistry::Register(BackendInfo info) {
  AddBackend(TheRegistry(), std::move(info));
}

const BackendInfo* BackendRegistry::Find(std::string_view name_or_alias) {
  for (const auto& b : TheRegistry().backends) {
    if (EqualsIgnoreCase(b->name, name_or_alias)) return b.get();
    for (const std::string& alias : b->aliases) {
      if (EqualsIgnoreCase(alias, name_or_alias)) return b.get();
    }
  }
  return nullptr;
}

const BackendInfo* BackendRegistry::FindByScheme(std::string_view scheme) {
  for (const auto& b : TheRegistry().backends) {
    for (const std::string& s : b->url_schemes) {
      if (EqualsIgnoreCase(s, scheme)) return b.get();
    }
  }
  return nullptr;
}

std::vector<const BackendInfo*> BackendRegistry::List() {
  std::vector<const BackendInfo*> out;
  for (const auto& b : TheRegistry().backends) out.push_back(b.get());
  return out;
}

namespace {

std::unique_ptr<Database> Construct(const BackendInfo& info, const Object& options) {
  if (!info.available) {
    throw Error(
        ErrorCode::kUnsupported,
        "backend '" + info.name + "' is not available in this build: " + info.unavailable_reason);
  }
  return info.factory(options);
}

}  // namespace

std::unique_ptr<Database> CreateDatabase(std::string_view backend, const Object& options) {
  const BackendInfo* info = BackendRegistry::Find(backend);
  if (info == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "unknown backend '" + std::string(backend) +
                                                 "'; known backends: " + KnownBackendNames());
  }
  return Construct(*info, options);
}

std::unique_ptr<Database> CreateDatabase(const Object& options) {
  const Value* backend = options.Find("backend");
  if (backend == nullptr || backend->kind() != ValueKind::kString) {
    throw Error(ErrorCode::kInvalidArgument,
                "database options need a 'backend' string; known backends: " + KnownBackendNames());
  }
  Object rest;
  for (const auto& [key, value] : options) {
    if (key != "backend") rest.Set(key, value);
  }
  return CreateDatabase(backend->AsString(), rest);
}

std::unique_ptr<Database> OpenDatabase(std::string_view url) {
  const std::size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw Error(ErrorCode::kInvalidArgument, "not a store URL: '" + std::string(url) +
                                                 "' (expected scheme://..., e.g. memory://)");
  }
  const std::string_view scheme = url.substr(0, colon);
  const BackendInfo* info = BackendRegistry::FindByScheme(scheme);
  if (info == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "unknown URL scheme '" + std::string(scheme) +
                                                 "'; known backends: " + KnownBackendNames());
  }
  const std::string_view rest = url.substr(colon + 1);
  Object options = info->url_parser ? info->url_parser(scheme, rest) : Object{};
  return Construct(*info, options);
}

namespace internal {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace internal

Object ParseUrlQuery(std::string_view query) {
  Object out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out.Set(internal::PercentDecode(pair, true), std::string());
    } else {
      out.Set(internal::PercentDecode(pair.substr(0, eq), true),
              internal::PercentDecode(pair.substr(eq + 1), true));
    }
  }
  return out;
}

}  // namespace dkdata
