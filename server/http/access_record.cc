#include "server/http/access_record.h"

#include <array>
#include <charconv>
#include <cstring>
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

// RFC 3339 with microseconds into out[0..27); the date and time part is formatted once per
// second per thread.
constexpr size_t kTimestampSize = 27;  // "2026-12-01T23:31:26.123456Z"
void WriteTimestamp(int64_t unix_us, char* out) {
  thread_local int64_t cached_second = -1;
  thread_local char cached[19];  // "2026-12-01T23:31:26"
  const int64_t second = unix_us / 1000000;
  if (second != cached_second) {
    std::memcpy(cached, log::Rfc3339Micros(second * 1000000).data(), 19);
    cached_second = second;
  }
  std::memcpy(out, cached, 19);
  out[19] = '.';
  int64_t us = unix_us % 1000000;
  for (int i = 25; i >= 20; --i, us /= 10) out[i] = static_cast<char>('0' + us % 10);
  out[26] = 'Z';
}

void AppendTimestamp(int64_t unix_us, std::string* out) {
  char text[kTimestampSize];
  WriteTimestamp(unix_us, text);
  out->append(text, kTimestampSize);
}

constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = table[0x7f] = true;
  return table;
}();

// Writes through a raw pointer into room the caller reserved.
class RawWriter {
 public:
  explicit RawWriter(char* p) : p_(p) {}
  char* end() const { return p_; }
  void Raw(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void Int(int64_t v) { p_ = std::to_chars(p_, p_ + 24, v).ptr; }
  void Ms(int64_t us) {
    if (us < 0) us = 0;
    Int(us / 1000);
    const int frac = static_cast<int>(us % 1000);
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + frac / 100);
    p_[2] = static_cast<char>('0' + frac / 10 % 10);
    p_[3] = static_cast<char>('0' + frac % 10);
    p_ += 4;
  }
  void Timestamp(int64_t unix_us) {
    WriteTimestamp(unix_us, p_);
    p_ += kTimestampSize;
  }
  void Escaped(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : s) {
      if (c >= 0x80) {  // rare (obs-text): the shared escaper checks UTF-8
        thread_local std::string slow;
        slow.clear();
        log::AppendJsonEscaped(&slow, s);
        Raw(slow);  // at most 6 bytes per input byte: within the reserved room
        return;
      }
    }
    for (unsigned char c : s) {
      if (!kNeedsEscape[c]) {
        *p_++ = static_cast<char>(c);
        continue;
      }
      *p_++ = '\\';
      switch (c) {
        case '"':
        case '\\':
          *p_++ = static_cast<char>(c);
          break;
        case '\n':
          *p_++ = 'n';
          break;
        case '\r':
          *p_++ = 'r';
          break;
        case '\t':
          *p_++ = 't';
          break;
        default:
          *p_++ = 'u';
          *p_++ = '0';
          *p_++ = '0';
          *p_++ = kHex[c >> 4];
          *p_++ = kHex[c & 15];
      }
    }
  }

 private:
  char* p_;
};

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
    // One pass through a raw pointer into room reserved up front (the per-request hot spot
    // when the log is on): no capacity check per piece.
    const size_t strings = r.method.size() + r.authority.size() + r.path.size() +
                           r.upstream_path.size() + r.route.size() + r.cluster.size() +
                           r.endpoint.size() + r.client.size() + r.request_id.size() +
                           r.user_agent.size() + flags.size();
    const size_t old_size = out->size();
    out->resize(old_size + 6 * strings + 512);  // 6: the longest escape (\u00XX)
    RawWriter w(out->data() + old_size);
    w.Raw("{\"ts\":\"");
    w.Timestamp(r.start_unix_us);
    w.Raw("\",\"method\":\"");
    w.Escaped(r.method);
    w.Raw("\",\"authority\":\"");
    w.Escaped(r.authority);
    w.Raw("\",\"path\":\"");
    w.Escaped(r.path);
    w.Raw("\",\"upstream_path\":\"");
    w.Escaped(r.upstream_path);
    w.Raw("\",\"status\":");
    w.Int(r.status);
    w.Raw(",\"route\":\"");
    w.Escaped(r.route);
    w.Raw("\",\"cluster\":\"");
    w.Escaped(r.cluster);
    w.Raw("\",\"endpoint\":\"");
    w.Escaped(r.endpoint);
    w.Raw(r.upstream_reused ? "\",\"upstream_reused\":true,\"retries\":"
                            : "\",\"upstream_reused\":false,\"retries\":");
    w.Int(r.retries);
    w.Raw(",\"request_bytes\":");
    w.Int(static_cast<int64_t>(r.request_bytes));
    w.Raw(",\"response_bytes\":");
    w.Int(static_cast<int64_t>(r.response_bytes));
    w.Raw(",\"duration_ms\":");
    w.Ms(duration_us);
    w.Raw(",\"upstream_connect_ms\":");
    w.Ms(r.connect_us);
    w.Raw(",\"upstream_first_byte_ms\":");
    w.Ms(r.first_byte_us < 0 ? 0 : r.first_byte_us);
    w.Raw(",\"client\":\"");
    w.Escaped(r.client);
    w.Raw("\",\"request_id\":\"");
    w.Escaped(r.request_id);
    w.Raw("\",\"user_agent\":\"");
    w.Escaped(r.user_agent);
    w.Raw("\",\"flags\":\"");
    w.Escaped(flags);
    w.Raw("\"}\n");
    out->resize(static_cast<size_t>(w.end() - out->data()));
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
