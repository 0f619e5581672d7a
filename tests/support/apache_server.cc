#include "tests/support/apache_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"
#include "tests/support/http_client.h"
#include "tests/support/wait.h"

extern char** environ;

namespace rwtest {
namespace {

// The modules the prelude loads. One whose .so is missing is compiled in (Debian builds unixd in).
constexpr const char* kModules[][2] = {
    {"mpm_event_module", "mod_mpm_event.so"},
    {"authz_core_module", "mod_authz_core.so"},
    {"unixd_module", "mod_unixd.so"},
    {"proxy_module", "mod_proxy.so"},
    {"proxy_http_module", "mod_proxy_http.so"},
    {"proxy_balancer_module", "mod_proxy_balancer.so"},
    {"lbmethod_byrequests_module", "mod_lbmethod_byrequests.so"},
    {"lbmethod_bybusyness_module", "mod_lbmethod_bybusyness.so"},
    {"slotmem_shm_module", "mod_slotmem_shm.so"},
    {"rewrite_module", "mod_rewrite.so"},
    {"headers_module", "mod_headers.so"},
    {"alias_module", "mod_alias.so"},
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// /proc/PID/stat: the parent pid and the state letter; false if the process is gone.
bool ReadStat(pid_t pid, pid_t* ppid, char* state, std::string* comm) {
  std::string text = ReadAll(absl::StrCat("/proc/", pid, "/stat"));
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 4 >= text.size()) {
    return false;
  }
  *comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 2));
  long parent = 0;
  rest >> *state >> parent;
  *ppid = static_cast<pid_t>(parent);
  return true;
}

// A child still running as apache2 (not gone, not a zombie, not a reused pid).
bool ApacheChildAlive(pid_t pid) {
  pid_t ppid = 0;
  char state = '?';
  std::string comm;
  return ReadStat(pid, &ppid, &state, &comm) && state != 'Z' && comm == "apache2";
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         const std::vector<std::string>& args,
                                         const std::string& dir, const std::string& tag,
                                         std::chrono::milliseconds timeout) {
  const std::string out_path = absl::StrCat(dir, "/", tag, ".out");
  const std::string err_path = absl::StrCat(dir, "/", tag, ".err");
  std::vector<std::string> owned = {binary};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn ", binary, ": ", std::strerror(rc)));
  }
  int status = 0;
  auto exited = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout,
                        absl::StrCat(binary, " to exit"));
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return absl::DeadlineExceededError(exited.message());
  }
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out_path);
  result.err = ReadAll(err_path);
  return result;
}

bool ApacheServer::Installed() { return access(kBinary, X_OK) == 0; }

ApacheServer::ApacheServer() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/rwapache.XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) return;
  dir_ = templ;
  // Apache's children run as www-data when we are root: they must reach the DocumentRoot.
  chmod(dir_.c_str(), 0755);
  std::filesystem::create_directories(dir_ + "/htdocs");
  chmod((dir_ + "/htdocs").c_str(), 0755);
}

ApacheServer::~ApacheServer() {
  absl::Status stopped = Stop();
  if (!stopped.ok()) ADD_FAILURE() << stopped;
  if (dir_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::cerr << "[apache] kept " << dir_ << "\n" << Logs();
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string ApacheServer::Prelude() const {
  std::string out = absl::StrCat("# Generated by tests/support/apache_server.cc\nServerRoot \"",
                                 dir_, "\"\nListen 127.0.0.1:", port_, "\n");
  for (const auto& [name, file] : kModules) {
    const std::string path = absl::StrCat(kModuleDir, "/", file);
    if (access(path.c_str(), R_OK) != 0) continue;  // compiled in
    absl::StrAppend(&out, "LoadModule ", name, " ", path, "\n");
  }
  absl::StrAppend(&out, "PidFile ", dir_, "/httpd.pid\nErrorLog ", dir_,
                  "/error.log\nDefaultRuntimeDir ", dir_, "\nMutex file:", dir_,
                  " default\nServerName localhost\nLogLevel warn\n");
  if (geteuid() == 0) absl::StrAppend(&out, "User www-data\nGroup www-data\n");
  absl::StrAppend(&out, "DocumentRoot ", dir_, "/htdocs\n# The case's config\n");
  return out;
}

absl::Status ApacheServer::Start(std::string_view body,
                                 const std::map<std::string, std::string>& placeholders) {
  if (dir_.empty()) return absl::InternalError("no temp dir");
  if (process_.pid() > 0) return absl::FailedPreconditionError("apache already running");
  absl::Status last = absl::UnknownError("not started");
  for (int attempt = 0; attempt < 3; ++attempt) {  // a free port may be taken before Apache binds
    auto port = UnusedPort();
    if (!port.ok()) return port.status();
    port_ = *port;
    std::vector<std::pair<std::string, std::string>> replacements(placeholders.begin(),
                                                                  placeholders.end());
    replacements.emplace_back("@PORT@", absl::StrCat(port_));
    config_path_ = dir_ + "/httpd.conf";
    {
      std::ofstream out(config_path_, std::ios::trunc);
      out << Prelude()
          << absl::StrReplaceAll(absl::string_view(body.data(), body.size()), replacements);
      if (!out.flush()) return absl::InternalError("cannot write " + config_path_);
    }
    auto check = RunCommand(kBinary, {"-t", "-f", config_path_}, dir_, "check", kStartTimeout);
    if (!check.ok()) return check.status();
    if (check->exit_code != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("apache2 -t -f ", config_path_, ": ", check->out, check->err));
    }
    std::error_code ignored;
    std::filesystem::remove(dir_ + "/error.log", ignored);
    auto process =
        Process::Spawn(kBinary, {"-f", config_path_, "-DFOREGROUND"}, dir_ + "/apache.log");
    if (!process.ok()) return process.status();
    process_ = std::move(*process);
    last = WaitUntilAccepting();
    if (last.ok()) return last;
    if (process_.Alive()) return last;  // up but not answering: no point in another port
    if (ReadAll(dir_ + "/error.log").find("Address already in use") == std::string::npos) break;
  }
  return last;
}

absl::Status ApacheServer::WaitUntilAccepting() {
  // The socket listens before the parent forks: wait for the pid file (written after the
  // config is loaded) to name the parent, for its children, and for a connection to succeed.
  std::string last = "not tried";
  const std::string pid_text = absl::StrCat(process_.pid());
  auto up = WaitFor(
      [&] {
        if (!process_.Alive()) return true;  // reported below
        std::string pid_file = ReadAll(dir_ + "/httpd.pid");
        if (pid_file.substr(0, pid_file.find('\n')) != pid_text) {
          last = "no pid file naming " + pid_text;
          return false;
        }
        if (Children().empty()) {
          last = "no child process yet";
          return false;
        }
        auto conn = HttpConnection::Connect(port_, std::chrono::milliseconds(500));
        last = conn.ok() ? "" : std::string(conn.status().message());
        return conn.ok();
      },
      kStartTimeout, absl::StrCat("apache2 to accept on 127.0.0.1:", port_));
  if (!process_.Alive()) {
    return absl::FailedPreconditionError(absl::StrCat("apache2 exited (code ",
                                                      process_.exit_code().value_or(-1),
                                                      ") before accepting connections\n", Logs()));
  }
  if (!up) return absl::DeadlineExceededError(absl::StrCat(up.message(), ": ", last, "\n", Logs()));
  // mpm_event forks its children before it accepts; keep their pids for the leftover check.
  children_ = Children();
  return absl::OkStatus();
}

std::vector<pid_t> ApacheServer::Children() const {
  std::vector<pid_t> out;
  const pid_t parent = process_.pid();
  if (parent <= 0) return out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    pid_t ppid = 0;
    char state = '?';
    std::string comm;
    if (ReadStat(pid, &ppid, &state, &comm) && ppid == parent) out.push_back(pid);
  }
  closedir(proc);
  return out;
}

absl::Status ApacheServer::Stop() {
  if (process_.pid() <= 0) return absl::OkStatus();
  for (pid_t pid : Children()) {
    if (std::find(children_.begin(), children_.end(), pid) == children_.end()) {
      children_.push_back(pid);
    }
  }
  const int code = process_.Stop(std::chrono::seconds(10));
  // The parent waits for its children before it exits; any still running is a leak.
  auto gone = WaitFor(
      [&] {
        for (pid_t pid : children_) {
          if (ApacheChildAlive(pid)) return false;
        }
        return true;
      },
      std::chrono::seconds(5), "apache2 children to exit");
  std::string killed;
  for (pid_t pid : children_) {
    if (!ApacheChildAlive(pid)) continue;
    kill(pid, SIGKILL);
    absl::StrAppend(&killed, " ", pid);
  }
  children_.clear();
  if (!killed.empty()) {
    return absl::InternalError(absl::StrCat("apache2 children left after the parent exited (code ",
                                            code, "), killed:", killed));
  }
  return absl::OkStatus();
}

std::string ApacheServer::Logs() const {
  return absl::StrCat("---- apache error.log ----\n", ReadFileTail(dir_ + "/error.log", 3000),
                      "\n---- apache stdout/stderr ----\n",
                      ReadFileTail(dir_ + "/apache.log", 2000), "\n");
}

}  // namespace rwtest
