#include "server/log/log.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace rwproxy::log {
namespace {

std::atomic<int> g_format{static_cast<int>(Format::kText)};
std::atomic<int> g_fd{2};

}  // namespace

bool ParseLevel(std::string_view text, Level* level) {
  std::string lower(text);
  for (char& c : lower) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (lower == "debug") *level = Level::kDebug;
  else if (lower == "info") *level = Level::kInfo;
  else if (lower == "warn" || lower == "warning") *level = Level::kWarn;
  else if (lower == "error") *level = Level::kError;
  else return false;
  return true;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool ParseFormat(std::string_view text, Format* format) {
  if (text == "text") *format = Format::kText;
  else if (text == "json") *format = Format::kJson;
  else return false;
  return true;
}

void SetLevel(Level level) { LevelState().store(static_cast<int>(level)); }
Level GetLevel() { return static_cast<Level>(LevelState().load()); }
void SetFormat(Format format) { g_format.store(static_cast<int>(format)); }
void SetFd(int fd) { g_fd.store(fd); }

std::string Rfc3339Micros(int64_t unix_micros) {
  const time_t seconds = static_cast<time_t>(unix_micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_micros % 1000000));
  return text;
}

namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF count as invalid).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t n = 0;
  uint32_t code = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2, code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3, code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4, code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  if (n == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) return 0;
  if (n == 4 && (code < 0x10000 || code > 0x10ffff)) return 0;
  return n;
}

}  // namespace

void AppendJsonEscaped(std::string* out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(text, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          constexpr char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

std::string FormatLine(Format format, int64_t unix_micros, Level level,
                       std::string_view component, std::string_view message) {
  std::string line;
  if (format == Format::kJson) {
    line.append("{\"ts\":\"");
    line.append(Rfc3339Micros(unix_micros));
    line.append("\",\"level\":\"");
    line.append(LevelName(level));
    line.append("\",\"component\":\"");
    AppendJsonEscaped(&line, component);
    line.append("\",\"msg\":\"");
    AppendJsonEscaped(&line, message);
    line.append("\"}\n");
  } else {
    line.append(Rfc3339Micros(unix_micros));
    line.push_back(' ');
    line.append(LevelName(level));
    line.push_back(' ');
    line.append(component);
    line.append(": ");
    // One line per record: embedded newlines become "\n".
    for (char c : message) {
      if (c == '\n') {
        line.append("\\n");
      } else {
        line.push_back(c);
      }
    }
    line.push_back('\n');
  }
  return line;
}

void Write(Level level, std::string_view component, std::string_view message) {
  if (!Enabled(level)) return;
  const std::string line =
      FormatLine(static_cast<Format>(g_format.load()), absl::ToUnixMicros(absl::Now()), level,
                 component, message);
  (void)!::write(g_fd.load(), line.data(), line.size());
}

}  // namespace rwproxy::log
