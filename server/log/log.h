// The one diagnostics facade (not the access log): each line has an RFC 3339 timestamp (UTC,
// microseconds), a level, a component and a message, as text
//   2026-12-01T23:31:26.123456Z info control: applied version 7 (hash ..., source api)
// or as JSON ({"ts":...,"level":"info","component":"control","msg":"..."}). The level can be
// changed at runtime (admin POST /logging?level=debug). Nothing above debug is logged per
// request.
//
// Ownership: process-wide state set up by main (SetFormat, SetLevel) before threads start;
// SetLevel may be called again at any time. Thread-safety: every function may be called from
// any thread; a line is written with one write(2), so lines never interleave.
#ifndef RWPROXY_SERVER_LOG_LOG_H_
#define RWPROXY_SERVER_LOG_LOG_H_

#include <atomic>
#include <string>
#include <string_view>

namespace rwproxy::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

// "debug" | "info" | "warn" | "error" (any case).
bool ParseLevel(std::string_view text, Level* level);
std::string_view LevelName(Level level);
bool ParseFormat(std::string_view text, Format* format);

void SetLevel(Level level);
Level GetLevel();
void SetFormat(Format format);
// Lines go to this file descriptor (default 2, stderr); tests point it at a pipe or file.
void SetFd(int fd);

inline std::atomic<int>& LevelState() {
  static std::atomic<int> level{static_cast<int>(Level::kInfo)};
  return level;
}
inline bool Enabled(Level level) {
  return static_cast<int>(level) >= LevelState().load(std::memory_order_relaxed);
}

// Writes one line if `level` is enabled.
void Write(Level level, std::string_view component, std::string_view message);

// The same line as Write would produce, at `unix_micros` (exported for tests).
std::string FormatLine(Format format, int64_t unix_micros, Level level,
                       std::string_view component, std::string_view message);

inline void Debug(std::string_view component, std::string_view message) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, component, message);
}
inline void Info(std::string_view component, std::string_view message) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, component, message);
}
inline void Warn(std::string_view component, std::string_view message) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, component, message);
}
inline void Error(std::string_view component, std::string_view message) {
  if (Enabled(Level::kError)) Write(Level::kError, component, message);
}

// RFC 3339 UTC with microseconds: "2026-12-01T23:31:26.123456Z".
std::string Rfc3339Micros(int64_t unix_micros);
// JSON string escaping without the quotes: quotes, backslash, control characters (\u00XX);
// bytes that are not valid UTF-8 become \ufffd, so the result is always valid JSON.
void AppendJsonEscaped(std::string* out, std::string_view text);

}  // namespace rwproxy::log

#endif  // RWPROXY_SERVER_LOG_LOG_H_
