#include "conformance_helpers.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>

namespace dkdata::conformance {

namespace {

void AppendQuoted(std::string& out, const std::string& text) {
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;  // UTF-8 passes through
    }
  }
  out += '"';
}

void AppendValue(std::string& out, const Value& value) {
  switch (value.kind()) {
    case ValueKind::kNull:
      out += "null";
      return;
    case ValueKind::kBool:
      out += *value.Get<bool>() ? "true" : "false";
      return;
    case ValueKind::kInt:
      out += std::to_string(*value.Get<std::int64_t>());
      return;
    case ValueKind::kFloat: {
      const double d = *value.Get<double>();
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      out += buf;
      if (std::isfinite(d) && std::string_view(buf).find_first_of(".en") == std::string::npos) {
        out += ".0";
      }
      return;
    }
    case ValueKind::kString:
      AppendQuoted(out, *value.Get<std::string>());
      return;
    case ValueKind::kBytes: {
      out += "b\"";
      for (const char c : value.Get<Bytes>()->data) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(c));
        out += buf;
      }
      out += '"';
      return;
    }
    case ValueKind::kTimestamp:
      out += "t\"" + value.Get<Timestamp>()->ToIso() + "\"";
      return;
    case ValueKind::kList: {
      out += '[';
      bool first = true;
      for (const Value& e : *value.Get<List>()) {
        if (!first) out += ", ";
        first = false;
        AppendValue(out, e);
      }
      out += ']';
      return;
    }
    case ValueKind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : *value.Get<Object>()) {
        if (!first) out += ", ";
        first = false;
        AppendQuoted(out, key);
        out += ": ";
        AppendValue(out, member);
      }
      out += '}';
      return;
    }
    case ValueKind::kVector: {
      out += "v[";
      bool first = true;
      for (const float f : *value.Get<Vector>()) {
        if (!first) out += ", ";
        first = false;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
        out += buf;
      }
      out += ']';
      return;
    }
  }
  out += "<?>";
}

void AppendTree(std::string& out, const Expr& expr) {
  switch (expr.kind()) {
    case Expr::Kind::kFilter: {
      const Filter& f = expr.filter();
      out += '(';
      AppendQuoted(out, f.field);
      out += ' ';
      out += OpName(f.op);
      if (f.op != Op::kExists && f.op != Op::kNotExists) {
        out += ' ';
        AppendValue(out, f.value);
      }
      out += ')';
      return;
    }
    case Expr::Kind::kNot:
      out += "NOT ";
      if (!expr.children().empty()) AppendTree(out, expr.children().front());
      return;
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      const bool is_and = expr.kind() == Expr::Kind::kAnd;
      if (expr.children().empty()) {
        out += is_and ? "TRUE" : "FALSE";
        return;
      }
      out += '(';
      bool first = true;
      for (const Expr& child : expr.children()) {
        if (!first) out += is_and ? " AND " : " OR ";
        first = false;
        AppendTree(out, child);
      }
      out += ')';
      return;
    }
  }
}

}  // namespace

Record MakeRecord(std::string id, std::initializer_list<std::pair<std::string, Value>> fields) {
  Record record(fields);
  record.set_id(std::move(id));
  return record;
}

std::vector<std::string> IdsOf(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (const Record& r : records) ids.push_back(r.id().value_or("<no id>"));
  return ids;
}

std::vector<std::string> SortedIdsOf(const std::vector<Record>& records) {
  return Sorted(IdsOf(records));
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string DescribeValue(const Value& value) {
  std::string out;
  AppendValue(out, value);
  return out;
}

std::string DescribeRecord(const Record& record) {
  std::string out = "{id: ";
  out += record.id() ? *record.id() : std::string("<none>");
  out += ", version: " + std::to_string(record.version());
  for (const Field& f : record.fields()) {
    out += ", ";
    AppendQuoted(out, f.name);
    out += ": ";
    AppendValue(out, f.value);
    out += " (";
    out += FieldTypeName(f.type);
    out += ')';
  }
  if (!record.metadata().empty()) {
    out += ", metadata: ";
    AppendValue(out, Value(record.metadata()));
  }
  out += '}';
  return out;
}

std::string Describe(const Expr& expr) {
  std::string out;
  try {
    out = "text: " + expr.ToString() + "\n";
  } catch (const std::exception& e) {
    out = std::string("text: <Expr::ToString threw: ") + e.what() + ">\n";
  }
  out += "tree: ";
  AppendTree(out, expr);
  return out;
}

std::string Describe(const Query& query) {
  std::string out;
  try {
    out = "text: " + query.ToString() + "\n";
  } catch (const std::exception& e) {
    out = std::string("text: <Query::ToString threw: ") + e.what() + ">\n";
  }
  out += "tree: where ";
  AppendTree(out, query.where());
  if (!query.sort().empty()) {
    out += " order by";
    bool first = true;
    for (const SortKey& key : query.sort()) {
      out += first ? " " : ", ";
      first = false;
      AppendQuoted(out, key.field);
      out += key.order == SortOrder::kAsc ? " asc" : " desc";
    }
  }
  if (query.offset() != 0) out += " offset " + std::to_string(query.offset());
  if (query.limit()) out += " limit " + std::to_string(*query.limit());
  if (!query.fields().empty()) {
    out += " select";
    for (const std::string& f : query.fields()) {
      out += ' ';
      AppendQuoted(out, f);
    }
  }
  return out;
}

namespace {

std::filesystem::path FreshStoreRoot() {
  static const std::filesystem::path root = [] {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("dkdata-conformance-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return root;
}

}  // namespace

std::string FreshStorePath(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::filesystem::path folder = FreshStoreRoot() / std::to_string(++counter);
  std::filesystem::create_directories(folder);
  return (folder / name).string();
}

void RemoveFreshStores() {
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(FreshStoreRoot(), ignored)) {
    std::filesystem::remove_all(entry.path(), ignored);
  }
}

}  // namespace dkdata::conformance
