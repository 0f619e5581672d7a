#include "tests/cli/rwctl_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/wait.h"

extern char** environ;

#ifndef RWCTL_BIN
#error "RWCTL_BIN must name the rwctl binary"
#endif

namespace rwtest {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

std::string RwctlBinary() { return RWCTL_BIN; }

std::string RwctlResult::Describe() const {
  return absl::StrCat("exit ", exit_code, "\n--- stdout ---\n", out, "--- stderr ---\n", err);
}

RwctlRunner::RwctlRunner() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/rwctl.XXXXXX");
  if (mkdtemp(templ.data()) != nullptr) dir_ = templ;
}

RwctlRunner::~RwctlRunner() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RwctlRunner::WriteFile(const std::string& name, const std::string& text) {
  std::string path = absl::StrCat(dir_, "/", name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

absl::StatusOr<RwctlRunner::Child> RwctlRunner::Start(const std::vector<std::string>& args,
                                                      const std::string& stdin_text,
                                                      const std::vector<std::string>& env) {
  if (dir_.empty()) return absl::InternalError("no temp dir");
  const int n = ++serial_;
  Child child;
  const std::string in_path = WriteFile(absl::StrCat("stdin.", n), stdin_text);
  child.out_path = absl::StrCat(dir_, "/stdout.", n);
  child.err_path = absl::StrCat(dir_, "/stderr.", n);

  std::vector<std::string> argv_owned = {RwctlBinary()};
  argv_owned.insert(argv_owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_owned;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "RWCTL_")) env_owned.emplace_back(*e);
  }
  env_owned.insert(env_owned.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_owned) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, child.out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, child.err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError(absl::StrCat("posix_spawn rwctl: ", std::strerror(rc)));
  return child;
}

absl::StatusOr<RwctlResult> RwctlRunner::Wait(const Child& child,
                                              std::chrono::milliseconds timeout) {
  int wait_status = 0;
  bool exited = false;
  auto done = WaitFor(
      [&] {
        exited = waitpid(child.pid, &wait_status, WNOHANG) == child.pid;
        return exited;
      },
      timeout, "rwctl to exit");
  if (!exited) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, &wait_status, 0);
  }
  RwctlResult result;
  result.exit_code = ExitCodeOf(wait_status);
  result.out = Slurp(child.out_path);
  result.err = Slurp(child.err_path);
  if (!done) {
    return absl::DeadlineExceededError(absl::StrCat(done.message(), "\n", result.Describe()));
  }
  return result;
}

absl::StatusOr<RwctlResult> RwctlRunner::Run(const std::vector<std::string>& args,
                                             const std::string& stdin_text,
                                             const std::vector<std::string>& env,
                                             std::chrono::milliseconds timeout) {
  auto child = Start(args, stdin_text, env);
  if (!child.ok()) return child.status();
  return Wait(*child, timeout);
}

}  // namespace rwtest
