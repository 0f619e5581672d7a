#include "server/http/access_record.h"

#include <array>
#include <charconv>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "server/log/log.h"

namespace rwproxy {
namespace {

constexpr const char* kFlagNames[] = {"NR", "UF", "UO", "UT", "UR", "DC", "RL", "BR", "UM"};

void AppendInt(int64_t value, std::string* out) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
  out->append(text, end);
}

// Microseconds as milliseconds with three decimals ("2.250"), without printf.
void AppendMs(int64_t us, std::string* out) {
  if (us < 0) us = 0;
  AppendInt(us / 1000, out);
  const int frac = static_cast<int>(us % 1000);
  const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10), static_cast<char>('0' + frac % 10)};
  out->append(digits, 4);
}

// RFC 3339 with microseconds; the date and time part is formatted once per second per thread.
void AppendTimestamp(int64_t unix_us, std::string* out) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached;  // "2026-12-01T23:31:26"
  const int64_t second = unix_us / 1000000;
  if (second != cached_second) {
    cached = log::Rfc3339Micros(second * 1000000).substr(0, 19);
    cached_second = second;
  }
  out->append(cached);
  char frac[8] = {'.', '0', '0', '0', '0', '0', '0', 'Z'};
  int64_t us = unix_us % 1000000;
  for (int i = 6; i >= 1; --i, us /= 10) frac[i] = static_cast<char>('0' + us % 10);
  out->append(frac, 8);
}

// JSON escaping with a fast path for the common case (nothing to escape).
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = table[0x7f] = true;
  return table;
}();

void AppendEscaped(std::string* out, std::string_view text) {
  for (unsigned char c : text) {
    if (kNeedsEscape[c]) {
      log::AppendJsonEscaped(out, text);
      return;
    }
  }
  out->append(text);
}

void JsonString(std::string* out, std::string_view key, std::string_view value) {
  out->append(",\"");
  out->append(key);
  out->append("\":\"");
  AppendEscaped(out, value);
  out->push_back('"');
}

void JsonNumber(std::string* out, std::string_view key, int64_t value) {
  out->append(",\"");
  out->append(key);
  out->append("\":");
  AppendInt(value, out);
}

void JsonMs(std::string* out, std::string_view key, int64_t us) {
  out->append(",\"");
  out->append(key);
  out->append("\":");
  AppendMs(us, out);
}

// Text fields: "-" when empty; quoted when they may hold spaces.
void TextField(std::string* out, std::string_view value, bool quote) {
  out->push_back(' ');
  if (value.empty()) {
    out->push_back('-');
    return;
  }
  if (quote) out->push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  }
  if (quote) out->push_back('"');
}

}  // namespace

int64_t UnixMicros(std::chrono::steady_clock::time_point at) {
  thread_local std::chrono::steady_clock::time_point refreshed{};
  thread_local int64_t offset_us = 0;  // wall - steady
  if (at - refreshed > std::chrono::seconds(1) || at < refreshed) {
    const auto steady = std::chrono::steady_clock::now();
    const int64_t wall = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    offset_us = wall - std::chrono::duration_cast<std::chrono::microseconds>(
                           steady.time_since_epoch())
                           .count();
    refreshed = steady;
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count() +
         offset_us;
}

std::string FlagCodes(uint32_t flags) {
  std::string out;
  for (size_t i = 0; i < sizeof(kFlagNames) / sizeof(kFlagNames[0]); ++i) {
    if (flags & (1u << i)) {
      if (!out.empty()) out.push_back(',');
      out.append(kFlagNames[i]);
    }
  }
  return out;
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("._:+=/-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

RequestIdGenerator::RequestIdGenerator(uint64_t process_nonce, unsigned worker) {
  int n = std::snprintf(prefix_, sizeof(prefix_), "%012llx-%x-",
                        static_cast<unsigned long long>(process_nonce & 0xffffffffffffULL),
                        worker);
  prefix_size_ = static_cast<size_t>(n);
}

void RequestIdGenerator::Next(std::string* out) {
  out->assign(prefix_, prefix_size_);
  char text[20];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), ++counter_, 16);
  out->append(text, end);
}

void FormatAccessRecord(const AccessRecord& r, AccessLogFormat format,
                        std::chrono::steady_clock::time_point end, std::string* out) {
  const int64_t duration_us =
      std::chrono::duration_cast<std::chrono::microseconds>(end - r.start).count();
  char flag_text[40];
  size_t flag_size = 0;
  for (size_t i = 0; i < sizeof(kFlagNames) / sizeof(kFlagNames[0]); ++i) {
    if (r.flags & (1u << i)) {
      if (flag_size > 0) flag_text[flag_size++] = ',';
      flag_text[flag_size++] = kFlagNames[i][0];
      flag_text[flag_size++] = kFlagNames[i][1];
    }
  }
  const std::string_view flags(flag_text, flag_size);
  if (format == AccessLogFormat::kJson) {
    out->append("{\"ts\":\"");
    AppendTimestamp(r.start_unix_us, out);
    out->push_back('"');
    JsonString(out, "method", r.method);
    JsonString(out, "authority", r.authority);
    JsonString(out, "path", r.path);
    JsonString(out, "upstream_path", r.upstream_path);
    JsonNumber(out, "status", r.status);
    JsonString(out, "route", r.route);
    JsonString(out, "cluster", r.cluster);
    JsonString(out, "endpoint", r.endpoint);
    out->append(r.upstream_reused ? ",\"upstream_reused\":true" : ",\"upstream_reused\":false");
    JsonNumber(out, "retries", r.retries);
    JsonNumber(out, "request_bytes", static_cast<int64_t>(r.request_bytes));
    JsonNumber(out, "response_bytes", static_cast<int64_t>(r.response_bytes));
    JsonMs(out, "duration_ms", duration_us);
    JsonMs(out, "upstream_connect_ms", r.connect_us);
    JsonMs(out, "upstream_first_byte_ms", r.first_byte_us < 0 ? 0 : r.first_byte_us);
    JsonString(out, "client", r.client);
    JsonString(out, "request_id", r.request_id);
    JsonString(out, "user_agent", r.user_agent);
    JsonString(out, "flags", flags);
    out->append("}\n");
    return;
  }
  // text: ts client "METHOD PATH" status route cluster endpoint reused=R retries=N
  //       req_bytes resp_bytes duration_ms connect_ms first_byte_ms "upstream_path" authority
  //       request_id "user_agent" flags
  AppendTimestamp(r.start_unix_us, out);
  TextField(out, r.client, false);
  out->append(" \"");
  out->append(r.method);
  out->push_back(' ');
  for (char c : r.path) out->push_back(static_cast<unsigned char>(c) < 0x20 || c == '"' ? '?' : c);
  out->push_back('"');
  out->push_back(' ');
  AppendInt(r.status, out);
  TextField(out, r.route, false);
  TextField(out, r.cluster, false);
  TextField(out, r.endpoint, false);
  out->append(r.upstream_reused ? " reused=1 retries=" : " reused=0 retries=");
  AppendInt(r.retries, out);
  out->push_back(' ');
  AppendInt(static_cast<int64_t>(r.request_bytes), out);
  out->push_back(' ');
  AppendInt(static_cast<int64_t>(r.response_bytes), out);
  out->push_back(' ');
  AppendMs(duration_us, out);
  out->push_back(' ');
  AppendMs(r.connect_us, out);
  out->push_back(' ');
  AppendMs(r.first_byte_us < 0 ? 0 : r.first_byte_us, out);
  TextField(out, r.upstream_path, true);
  TextField(out, r.authority, false);
  TextField(out, r.request_id, false);
  TextField(out, r.user_agent, true);
  TextField(out, flags, false);
  out->push_back('\n');
}

}  // namespace rwproxy
