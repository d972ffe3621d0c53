#include "backends/memory/memory_index.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/evaluator.hpp"

namespace dkdata::internal {

bool IndexableOperand(const Value& operand) {
  switch (operand.kind()) {
    case ValueKind::kBool:
    case ValueKind::kInt:
    case ValueKind::kFloat:
    case ValueKind::kBytes:
      return true;
    case ValueKind::kString:
      return !Timestamp::Parse(*operand.Get<std::string>());
    default:
      return false;
  }
}

std::optional<Value> SecondaryIndex::Key(const Value* value) {
  if (value == nullptr) return std::nullopt;
  switch (value->kind()) {
    case ValueKind::kBool:
    case ValueKind::kInt:
    case ValueKind::kString:
    case ValueKind::kBytes:
      return *value;
    case ValueKind::kFloat: {
      const double d = *value->Get<double>();
      if (std::trunc(d) == d && std::fabs(d) < 9.0e18) return Value(static_cast<std::int64_t>(d));
      return *value;
    }
    default:
      return std::nullopt;
  }
}

std::size_t SecondaryIndex::ValueHash::operator()(const Value& v) const noexcept {
  switch (v.kind()) {
    case ValueKind::kBool:
      return *v.Get<bool>() ? 0x9e37 : 0x7f4a;
    case ValueKind::kInt:
      return std::hash<std::int64_t>()(*v.Get<std::int64_t>());
    case ValueKind::kFloat:
      return std::hash<double>()(*v.Get<double>());
    case ValueKind::kString:
      return std::hash<std::string>()(*v.Get<std::string>());
    case ValueKind::kBytes:
      return std::hash<std::string>()(v.Get<Bytes>()->data) ^ 0x5bd1e995;
    default:
      return 0;
  }
}

bool SecondaryIndex::ValueEqual::operator()(const Value& a, const Value& b) const noexcept {
  return a.kind() == b.kind() && ValuesEqual(a, b);
}

bool SecondaryIndex::SortLess::operator()(const Value& a, const Value& b) const noexcept {
  return SortCompare(&a, &b) < 0;
}

void SecondaryIndex::Add(const Value* value, std::uint32_t slot) {
  auto key = Key(value);
  if (!key) return;
  auto& slots = kind_ == IndexKind::kHash ? hash_[std::move(*key)] : ordered_[std::move(*key)];
  slots.push_back(slot);
}

void SecondaryIndex::Remove(const Value* value, std::uint32_t slot) {
  auto key = Key(value);
  if (!key) return;
  auto erase_from = [slot](auto& map, const Value& k) {
    auto it = map.find(k);
    if (it == map.end()) return;
    auto& slots = it->second;
    slots.erase(std::remove(slots.begin(), slots.end(), slot), slots.end());
    if (slots.empty()) map.erase(it);
  };
  if (kind_ == IndexKind::kHash) {
    erase_from(hash_, *key);
  } else {
    erase_from(ordered_, *key);
  }
}

void SecondaryIndex::Clear() {
  hash_.clear();
  ordered_.clear();
}

void SecondaryIndex::Equal(const Value& operand, std::vector<std::uint32_t>& out) const {
  auto key = Key(&operand);
  if (!key) return;
  if (kind_ == IndexKind::kHash) {
    auto it = hash_.find(*key);
    if (it != hash_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  } else {
    auto it = ordered_.find(*key);
    if (it != ordered_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }
}

void SecondaryIndex::Range(const Value* low, bool low_inclusive, const Value* high,
                           bool high_inclusive, std::vector<std::uint32_t>& out) const {
  const Value* any_bound = low != nullptr ? low : high;
  auto it = low == nullptr
                ? ordered_.begin()
                : (low_inclusive ? ordered_.lower_bound(*low) : ordered_.upper_bound(*low));
  for (; it != ordered_.end(); ++it) {
    // Only values comparable with the bounds qualify; SortCompare groups them by kind.
    if (!CompareValues(it->first, *any_bound)) {
      if (low == nullptr) continue;  // values of lower-ranked kinds come first
      break;
    }
    if (high != nullptr) {
      const int c = SortCompare(&it->first, high);
      if (c > 0 || (c == 0 && !high_inclusive)) break;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
}

void SecondaryIndex::Prefix(const std::string& prefix, std::vector<std::uint32_t>& out) const {
  for (auto it = ordered_.lower_bound(Value(prefix)); it != ordered_.end(); ++it) {
    const auto* s = it->first.Get<std::string>();
    if (s == nullptr || !std::string_view(*s).starts_with(prefix)) break;
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
}

}  // namespace dkdata::internal
