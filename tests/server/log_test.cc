// The diagnostics facade: exact text and JSON lines for a fixed time, JSON escaping, level
// filtering and writing a line to a file descriptor.
#include "server/log/log.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"

namespace rwproxy::log {
namespace {

// 2026-12-01T23:31:26.123456Z
constexpr int64_t kMicros = 1796167886123456;

// Restores the process-wide level, format and fd after each test.
class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetLevel(Level::kInfo);
    SetFormat(Format::kText);
    SetFd(2);
  }
};

TEST_F(LogTest, TimestampIsRfc3339UtcWithMicroseconds) {
  EXPECT_EQ(Rfc3339Micros(kMicros), "2026-12-01T23:31:26.123456Z");
  EXPECT_EQ(Rfc3339Micros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(Rfc3339Micros(1000007), "1970-01-01T00:00:01.000007Z");
}

TEST_F(LogTest, FormatsTextLine) {
  EXPECT_EQ(FormatLine(Format::kText, kMicros, Level::kInfo, "control",
                       "applied version 7, hash 00ff, source api"),
            "2026-12-01T23:31:26.123456Z info control: applied version 7, hash 00ff, source api\n");
  EXPECT_EQ(FormatLine(Format::kText, kMicros, Level::kWarn, "watch", "a\nb"),
            "2026-12-01T23:31:26.123456Z warn watch: a\\nb\n");
  EXPECT_EQ(FormatLine(Format::kText, kMicros, Level::kError, "main", ""),
            "2026-12-01T23:31:26.123456Z error main: \n");
}

TEST_F(LogTest, FormatsJsonLine) {
  EXPECT_EQ(FormatLine(Format::kJson, kMicros, Level::kDebug, "drain", "signal 15: draining"),
            "{\"ts\":\"2026-12-01T23:31:26.123456Z\",\"level\":\"debug\",\"component\":\"drain\","
            "\"msg\":\"signal 15: draining\"}\n");
}

TEST_F(LogTest, EscapesJson) {
  std::string out;
  AppendJsonEscaped(&out, std::string("q\"b\\n\nr\rt\tz\x01\x1f\x7f\0", 15));  // NUL too
  EXPECT_EQ(out, "q\\\"b\\\\n\\nr\\rt\\tz\\u0001\\u001f\\u007f\\u0000");
  out.clear();
  AppendJsonEscaped(&out, "caf\xc3\xa9 /api/(.*)$");  // UTF-8 and regex text pass through
  EXPECT_EQ(out, "caf\xc3\xa9 /api/(.*)$");

  EXPECT_EQ(FormatLine(Format::kJson, kMicros, Level::kWarn, "con\"trol",
                       "Apply failed: INVALID_ARGUMENT: routes[0].match: \"x\"\nsecond"),
            "{\"ts\":\"2026-12-01T23:31:26.123456Z\",\"level\":\"warn\",\"component\":"
            "\"con\\\"trol\",\"msg\":\"Apply failed: INVALID_ARGUMENT: routes[0].match: "
            "\\\"x\\\"\\nsecond\"}\n");
}

TEST_F(LogTest, ParsesLevelsAndFormats) {
  Level level = Level::kError;
  ASSERT_TRUE(ParseLevel("debug", &level));
  EXPECT_EQ(level, Level::kDebug);
  ASSERT_TRUE(ParseLevel("WARN", &level));
  EXPECT_EQ(level, Level::kWarn);
  ASSERT_TRUE(ParseLevel("error", &level));
  EXPECT_EQ(level, Level::kError);
  ASSERT_TRUE(ParseLevel("info", &level));
  EXPECT_EQ(level, Level::kInfo);
  EXPECT_FALSE(ParseLevel("verbose", &level));
  EXPECT_FALSE(ParseLevel("", &level));
  EXPECT_EQ(level, Level::kInfo);
  EXPECT_EQ(LevelName(Level::kWarn), "warn");

  Format format = Format::kText;
  ASSERT_TRUE(ParseFormat("json", &format));
  EXPECT_EQ(format, Format::kJson);
  EXPECT_FALSE(ParseFormat("yaml", &format));
}

TEST_F(LogTest, EnabledFollowsTheLevel) {
  SetLevel(Level::kWarn);
  EXPECT_EQ(GetLevel(), Level::kWarn);
  EXPECT_FALSE(Enabled(Level::kDebug));
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
  SetLevel(Level::kDebug);
  EXPECT_TRUE(Enabled(Level::kDebug));
  SetLevel(Level::kError);
  EXPECT_FALSE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
}

// Everything readable from the non-blocking pipe `fd` now (the writes are synchronous).
std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return out;  // EAGAIN: nothing more
    }
  }
}

TEST_F(LogTest, WritesEnabledLinesToTheFd) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  SetFd(fds[1]);
  SetFormat(Format::kJson);
  SetLevel(Level::kInfo);

  Debug("main", "hidden");
  Info("main", "rwproxy started");
  Warn("control", "Apply failed: UNAUTHENTICATED: invalid token");
  std::string lines = Drain(fds[0]);

  const std::string prefix = "{\"ts\":\"";
  ASSERT_TRUE(lines.starts_with(prefix)) << lines;
  // "{"ts":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ"," then the fixed part.
  const std::string ts = lines.substr(prefix.size(), 27);
  EXPECT_EQ(ts.size(), 27u);
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts[26], 'Z');
  const size_t first_end = lines.find('\n');
  ASSERT_NE(first_end, std::string::npos);
  EXPECT_EQ(lines.substr(prefix.size() + 27, first_end + 1 - prefix.size() - 27),
            "\",\"level\":\"info\",\"component\":\"main\",\"msg\":\"rwproxy started\"}\n");
  const std::string second = lines.substr(first_end + 1);
  EXPECT_NE(second.find("\"level\":\"warn\",\"component\":\"control\",\"msg\":\"Apply failed: "
                        "UNAUTHENTICATED: invalid token\"}\n"),
            std::string::npos)
      << second;
  EXPECT_EQ(second.find('\n'), second.size() - 1) << "two lines only: " << lines;
  EXPECT_EQ(lines.find("hidden"), std::string::npos);

  SetLevel(Level::kError);
  Warn("control", "filtered");
  Write(Level::kWarn, "control", "filtered too");
  EXPECT_EQ(Drain(fds[0]), "");
  SetFormat(Format::kText);
  Write(Level::kError, "state", "cannot persist");
  const std::string text = Drain(fds[0]);
  EXPECT_EQ(text.substr(27), " error state: cannot persist\n") << text;

  SetFd(2);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace rwproxy::log
