#include "cli/import/apache_model.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cli/import/apache_regex.h"
#include "config/utf8.h"

namespace rwproxy::cli::apache {

void AppendLiteral(Template* t, const std::string& text) {
  if (text.empty()) return;
  if (!t->empty() && t->back().kind == Piece::Kind::kLiteral) {
    t->back().text += text;
  } else {
    t->push_back({Piece::Kind::kLiteral, text, 0});
  }
}

std::string RenderTemplate(const Template& t, bool percent_special) {
  std::string out;
  for (const Piece& piece : t) {
    switch (piece.kind) {
      case Piece::Kind::kLiteral:
        for (char c : piece.text) {
          if (c == '$') out += '$';
          if (c == '%' && percent_special) out += '%';
          out += c;
        }
        break;
      case Piece::Kind::kPathGroup:
        absl::StrAppend(&out, "$", piece.group);
        break;
      case Piece::Kind::kCondGroup:
        absl::StrAppend(&out, "%", piece.group);
        break;
    }
  }
  return out;
}

int MaxGroup(const Template& t, Piece::Kind kind) {
  int max = 0;
  for (const Piece& piece : t) {
    if (piece.kind == kind) max = std::max(max, piece.group);
  }
  return max;
}

bool HasRegexCondition(const config::v1::Match& match) {
  for (const auto& header : match.headers()) {
    if (header.value_case() == config::v1::HeaderMatch::kRegex && !header.invert()) return true;
  }
  return match.has_query() && !match.query().invert();
}

std::string HostName(const std::string& text) {
  std::string host = absl::AsciiStrToLower(text);
  if (size_t scheme = host.find("://"); scheme != std::string::npos) host = host.substr(scheme + 3);
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) return "";
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.find(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  for (char c : host) {
    if (!absl::ascii_isalnum(c) &&
        absl::string_view("-._*?[]:").find(c) == absl::string_view::npos) {
      return "";
    }
  }
  return host;
}

std::string Slug(const std::string& text) {
  std::string out;
  for (char c : absl::AsciiStrToLower(text)) {
    if (absl::ascii_isalnum(c)) {
      out += c;
    } else if (c == '*') {
      out += "any";
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

bool PlainText(absl::string_view s) {
  return utf8::IsValid(std::string_view(s.data(), s.size())) &&
         std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; });
}

bool FieldText(absl::string_view s) {
  return s.size() <= 8192 && utf8::IsValid(std::string_view(s.data(), s.size())) &&
         std::none_of(s.begin(), s.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return (u < 0x20 && c != '\t') || u == 0x7f;
         });
}

bool HostPattern(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr addr;
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &addr) == 1;
  }
  absl::string_view name = host;
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);
  return !name.empty() && name.front() != '.' && name.back() != '.' &&
         !absl::StrContains(name, "..") && std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isalnum(c) || c == '-' || c == '.';
         });
}

bool Re2Ok(const std::string& pattern, bool case_insensitive) {
  return PcreToRe2(pattern, case_insensitive).ok();
}

std::optional<std::string> ApacheDuration(const std::string& value) {
  size_t digits = 0;
  while (digits < value.size() && absl::ascii_isdigit(value[digits])) ++digits;
  uint64_t number = 0;
  if (digits == 0 || digits > 9 || !absl::SimpleAtoi(value.substr(0, digits), &number) ||
      number == 0) {
    return std::nullopt;
  }
  const std::string unit = absl::AsciiStrToLower(value.substr(digits));
  if (unit.empty() || unit == "s") return absl::StrCat(number, "s");
  if (unit == "ms") return absl::StrCat(number, "ms");
  if (unit == "mi") return absl::StrCat(number, "m");
  if (unit == "h") return absl::StrCat(number, "h");
  return std::nullopt;
}

}  // namespace rwproxy::cli::apache
