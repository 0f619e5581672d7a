#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace rwtest {

using Clock = std::chrono::steady_clock;

Process::Process(Process&& other) noexcept
    : pid_(other.pid_), log_path_(std::move(other.log_path_)), exit_code_(other.exit_code_) {
  other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Stop();
    pid_ = other.pid_;
    log_path_ = std::move(other.log_path_);
    exit_code_ = other.exit_code_;
    other.pid_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0) Stop();
}

absl::StatusOr<Process> Process::Spawn(const std::string& binary,
                                       const std::vector<std::string>& args,
                                       const std::string& log_path) {
  std::vector<std::string> owned;
  owned.push_back(binary);
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn ", binary, ": ", std::strerror(rc)));
  }
  Process process;
  process.pid_ = pid;
  process.log_path_ = log_path;
  return process;
}

void Process::Record(int wait_status) {
  if (WIFEXITED(wait_status)) {
    exit_code_ = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit_code_ = 128 + WTERMSIG(wait_status);
  } else {
    exit_code_ = -1;
  }
  pid_ = -1;
}

bool Process::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    Record(status);
  } else {
    exit_code_ = -1;
    pid_ = -1;
  }
  return false;
}

int Process::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return exit_code_.value_or(-1);
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  auto pause = std::chrono::milliseconds(1);
  while (Clock::now() < deadline) {
    if (!Alive()) return exit_code_.value_or(-1);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    Record(status);
  } else {
    exit_code_ = -1;
    pid_ = -1;
  }
  return exit_code_.value_or(-1);
}

namespace {

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

absl::StatusOr<int64_t> ReadStatusField(pid_t pid, absl::string_view field) {
  std::string text;
  if (!ReadFile(absl::StrCat("/proc/", pid, "/status"), text)) {
    return absl::NotFoundError(absl::StrCat("no /proc/", pid, "/status"));
  }
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, field) || !absl::ConsumePrefix(&line, ":")) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, "kB");
    int64_t kb = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kb)) break;
    return kb * 1024;
  }
  return absl::NotFoundError(absl::StrCat(field, " not in /proc/", pid, "/status"));
}

}  // namespace

absl::StatusOr<std::map<std::string, uint16_t>> WaitForPortsFile(
    const std::string& path, const std::vector<std::string>& names,
    std::chrono::milliseconds timeout, Process* owner) {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  std::string last_problem = "file not written";
  while (true) {
    std::string text;
    if (ReadFile(path, text)) {
      std::map<std::string, uint16_t> ports;
      for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
        std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
        if (parts.size() != 2) continue;
        auto colon = parts[1].rfind(':');
        uint32_t port = 0;
        if (colon == absl::string_view::npos ||
            !absl::SimpleAtoi(parts[1].substr(colon + 1), &port) || port == 0 || port > 65535) {
          continue;
        }
        ports[std::string(parts[0])] = static_cast<uint16_t>(port);
      }
      last_problem.clear();
      for (const auto& name : names) {
        if (!ports.count(name)) absl::StrAppend(&last_problem, "no '", name, "' line; ");
      }
      if (last_problem.empty()) return ports;
    }
    if (owner != nullptr && !owner->Alive()) {
      return absl::FailedPreconditionError(
          absl::StrCat("process exited (code ", owner->exit_code().value_or(-1),
                       ") before writing ", path, "; log: ", ReadFileTail(owner->log_path())));
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("ports file ", path, ": ", last_problem));
}

absl::StatusOr<int64_t> ReadRssBytes(pid_t pid) { return ReadStatusField(pid, "VmRSS"); }
absl::StatusOr<int64_t> ReadPeakRssBytes(pid_t pid) { return ReadStatusField(pid, "VmHWM"); }

std::string ReadFileTail(const std::string& path, size_t max_bytes) {
  std::string text;
  if (!ReadFile(path, text)) return "";
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

}  // namespace rwtest
