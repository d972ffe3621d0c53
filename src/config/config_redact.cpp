// Secrets: which keys hold them, URL user-info, and scrubbing them from messages.
#include <algorithm>
#include <cctype>

#include "config/config_internal.hpp"

namespace dkdata {

namespace {

constexpr std::string_view kRedacted = "***";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Where the authority of the URL whose "://" is at scheme_end ends.
std::size_t AuthorityEnd(std::string_view text, std::size_t begin) {
  std::size_t end = begin;
  while (end < text.size()) {
    const char c = text[end];
    if (c == '/' || c == '?' || c == '#' || c == '\'' || c == '"' || c == '<' || c == '>' ||
        c == '`' || std::isspace(static_cast<unsigned char>(c))) {
      break;
    }
    ++end;
  }
  return end;
}

// Calls fn(userinfo) for the user-info of every URL in text.
template <class Fn>
void ForEachUserInfo(std::string_view text, Fn&& fn) {
  for (std::size_t at = text.find("://"); at != std::string_view::npos;
       at = text.find("://", at + 3)) {
    const std::size_t begin = at + 3;
    const std::string_view authority = text.substr(begin, AuthorityEnd(text, begin) - begin);
    const std::size_t sign = authority.rfind('@');
    if (sign != std::string_view::npos && sign > 0) fn(authority.substr(0, sign));
  }
}

// Adds the strings of value (all of them: value sits under a secret key) to out.
void AddAllStrings(const Value& value, std::vector<std::string>& out) {
  if (const std::string* s = value.Get<std::string>()) {
    out.push_back(*s);
  } else if (const List* list = value.Get<List>()) {
    for (const Value& item : *list) AddAllStrings(item, out);
  } else if (const Object* object = value.Get<Object>()) {
    for (const auto& [key, member] : *object) AddAllStrings(member, out);
  } else if (!value.is_null()) {
    out.push_back(value.ToDisplayString());
  }
}

void CollectSecrets(const Value& value, std::vector<std::string>& out) {
  if (const std::string* s = value.Get<std::string>()) {
    ForEachUserInfo(*s, [&](std::string_view userinfo) {
      out.emplace_back(userinfo);
      const std::size_t colon = userinfo.find(':');
      if (colon != std::string_view::npos) out.emplace_back(userinfo.substr(colon + 1));
    });
  } else if (const List* list = value.Get<List>()) {
    for (const Value& item : *list) CollectSecrets(item, out);
  } else if (const Object* object = value.Get<Object>()) {
    for (const auto& [key, member] : *object) {
      if (IsSecretKey(key)) {
        AddAllStrings(member, out);
      } else {
        CollectSecrets(member, out);
      }
    }
  }
}

}  // namespace

bool IsSecretKey(std::string_view key) noexcept {
  static constexpr std::string_view kKeys[] = {"password",
                                               "passwd",
                                               "secret",
                                               "api_key",
                                               "token",
                                               "access_token",
                                               "auth_token",
                                               "client_secret",
                                               "secret_access_key",
                                               "aws_secret_access_key",
                                               "session_token",
                                               "aws_session_token",
                                               "basic_auth",
                                               "private_key"};
  static constexpr std::string_view kSuffixes[] = {"_password", "_secret", "_token", "_api_key"};
  for (std::string_view k : kKeys) {
    if (EqualsIgnoreCase(key, k)) return true;
  }
  for (std::string_view suffix : kSuffixes) {
    if (key.size() >= suffix.size() &&
        EqualsIgnoreCase(key.substr(key.size() - suffix.size()), suffix)) {
      return true;
    }
  }
  return false;
}

std::string RedactUrls(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = text.find("://"); at != std::string_view::npos;
       at = text.find("://", at + 3)) {
    const std::size_t begin = at + 3;
    const std::size_t end = AuthorityEnd(text, begin);
    const std::size_t sign = text.substr(begin, end - begin).rfind('@');
    if (sign == std::string_view::npos || sign == 0) continue;
    out.append(text.substr(copied, begin - copied));
    out.append(kRedacted);
    copied = begin + sign;
  }
  out.append(text.substr(copied));
  return out;
}

Value RedactSecrets(const Value& value) {
  if (const std::string* s = value.Get<std::string>()) return Value(RedactUrls(*s));
  if (const List* list = value.Get<List>()) {
    List out;
    out.reserve(list->size());
    for (const Value& item : *list) out.push_back(RedactSecrets(item));
    return Value(std::move(out));
  }
  if (const Object* object = value.Get<Object>()) return Value(RedactSecrets(*object));
  return value;
}

Object RedactSecrets(const Object& object) {
  Object out;
  out.Reserve(object.size());
  for (const auto& [key, member] : object) {
    if (IsSecretKey(key) && !member.is_null()) {
      out.Set(key, Value(std::string(kRedacted)));
    } else {
      out.Set(key, RedactSecrets(member));
    }
  }
  return out;
}

namespace internal {

std::string RedactMessage(std::string_view message, const Value& context) {
  std::vector<std::string> secrets;
  CollectSecrets(context, secrets);
  // Longest first, so that a secret holding another is replaced whole; short ones are left
  // alone (replacing "ab" everywhere would garble the message and hint at the secret anyway).
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::string out(message);
  for (const std::string& secret : secrets) {
    if (secret.size() < 4) continue;
    for (std::size_t at = out.find(secret); at != std::string::npos;
         at = out.find(secret, at + kRedacted.size())) {
      out.replace(at, secret.size(), kRedacted);
    }
  }
  return RedactUrls(out);
}

}  // namespace internal

}  // namespace dkdata
