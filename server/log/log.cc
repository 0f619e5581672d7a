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

void AppendJsonEscaped(std::string* out, std::string_view text) {
  for (unsigned char c : text) {
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
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\u%04x", c);
          out->append(hex);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
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
