// The admin dashboard (GET / on the admin listener) in a real browser: rwupstream + rwproxy with
// the integration config, a few hundred requests through the rewrite route, more while headless
// Chromium loads the page and samples /stats?format=json. The page keeps its state in the DOM
// (data-* attributes), which --dump-dom prints once the virtual time budget has run its timers:
// the routes and clusters it lists and how many samples each chart has drawn. Each run also saves
// a screenshot, laptop (1280x900) and phone (390x844) sized, whose path the test prints.
//
// Chromium comes from Debian (deploy/install-deps.sh installs it). Without it the test fails in
// CI (CI=true) and is skipped elsewhere. RWPROXY_CHROMIUM=PATH picks another browser binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

using namespace std::chrono_literals;

std::string ChromiumPath() {
  const char* path = std::getenv("RWPROXY_CHROMIUM");
  return path != nullptr && *path != '\0' ? path : "/usr/bin/chromium";
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct BrowserRun {
  int exit_code = -1;
  std::string dom;  // stdout: the serialized DOM
  std::string stderr_path;
};

// Runs Chromium headless on `url` with a window of `width`x`height`: dumps the DOM once
// `virtual_ms` of virtual time have passed (timers run, network fetches are waited for) and saves
// a screenshot to `screenshot`. The browser runs in a process group of its own, killed (by that
// id) if it has not exited after `timeout`.
absl::StatusOr<BrowserRun> RunChromium(const std::string& url, int width, int height,
                                       const std::string& screenshot, const std::string& work_dir,
                                       int virtual_ms, std::chrono::milliseconds timeout) {
  const std::string tag = absl::StrCat(width, "x", height);
  const std::string profile = absl::StrCat(work_dir, "/chromium-profile-", tag);
  const std::string out_path = absl::StrCat(work_dir, "/chromium-", tag, ".dom.html");
  const std::string err_path = absl::StrCat(work_dir, "/chromium-", tag, ".log");
  std::vector<std::string> args = {ChromiumPath(),
                                   "--headless=new",
                                   "--no-sandbox",  // tests run as root in CI containers
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--disable-extensions",
                                   "--no-first-run",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + profile,
                                   absl::StrCat("--window-size=", width, ",", height),
                                   absl::StrCat("--virtual-time-budget=", virtual_ms),
                                   "--screenshot=" + screenshot,
                                   "--dump-dom",
                                   url};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so that the kill below finds the group whoever runs first

  // Wait for the exit without reaping (WNOWAIT): until it is reaped, the leader keeps its group id
  // reserved, so the kill below can only reach the browser's own processes.
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = 5ms;
  while (!exited && std::chrono::steady_clock::now() < deadline) {
    siginfo_t info{};
    if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
      exited = true;
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
  }
  // The browser's helper processes (renderer, zygote, ...) are in its group: end whatever is left.
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!exited) {
    return absl::DeadlineExceededError(absl::StrCat("chromium did not finish within ",
                                                    timeout.count(), " ms (killed); log ", err_path,
                                                    ":\n", ReadFileTail(err_path, 2000)));
  }
  BrowserRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.dom = ReadWholeFile(out_path);
  run.stderr_path = err_path;
  return run;
}

// The start tag of the first element whose attributes contain `needle` (e.g. `id="chart-rps"`).
std::string StartTag(const std::string& dom, const std::string& needle) {
  const size_t at = dom.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = dom.rfind('<', at);
  const size_t end = dom.find('>', at);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return dom.substr(begin, end - begin + 1);
}

// The value of attribute `name` in a start tag; nullopt when absent.
std::optional<std::string> Attribute(const std::string& tag, const std::string& name) {
  const std::regex re("\\s" + name + "=\"([^\"]*)\"");
  std::smatch m;
  if (!std::regex_search(tag, m, re)) return std::nullopt;
  return m[1].str();
}

int64_t IntAttribute(const std::string& tag, const std::string& name) {
  int64_t value = -1;
  const auto text = Attribute(tag, name);
  if (!text || !absl::SimpleAtoi(*text, &value)) return -1;
  return value;
}

// The markup of the table row whose start tag contains `needle`.
std::string Row(const std::string& dom, const std::string& needle) {
  const size_t at = dom.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = dom.rfind("<tr", at);
  const size_t end = dom.find("</tr>", at);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return dom.substr(begin, end + 5 - begin);
}

bool IsPng(const std::string& path) {
  const std::string bytes = ReadWholeFile(path);
  return bytes.size() > 1000 && bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0;
}

class DashboardTest : public IntegrationTest {
 protected:
  void SetUp() override {
    chromium_ = ChromiumPath();
    if (access(chromium_.c_str(), X_OK) != 0) {
      const std::string message =
          absl::StrCat(chromium_, " not found: deploy/install-deps.sh installs Debian's chromium ",
                       "(apt-get install chromium), or set RWPROXY_CHROMIUM");
      if (InCi()) FAIL() << message;
      GTEST_SKIP() << message << " (this fails in CI)";
    }
    shots_ = RW_SCREENSHOT_DIR;
    std::error_code ec;
    std::filesystem::create_directories(shots_, ec);
    ASSERT_FALSE(ec) << shots_ << ": " << ec.message();
  }

  void TearDown() override { StopLoad(); }

  // Requests through the proxy from a thread, until StopLoad: mostly /api/users/N (the rewrite
  // route), every 10th /api/status/503 (an upstream 5xx) and every 40th /docs/N (a redirect).
  // Paced at about one request per millisecond so that it leaves the browser CPU time.
  void StartLoad() {
    load_ = std::thread([this] {
      std::unique_ptr<HttpConnection> conn;
      for (int64_t i = 0; !stop_load_.load(); ++i) {
        if (!conn) {
          auto c = HttpConnection::Connect(env_.proxy_port(), 5s);
          if (!c.ok()) {
            ++load_errors_;
            std::this_thread::sleep_for(10ms);  // pacing after an error, not for correctness
            continue;
          }
          conn = std::move(*c);
        }
        const std::string target = i % 10 == 9    ? "/api/status/503"
                                   : i % 40 == 20 ? absl::StrCat("/docs/", i)
                                                  : absl::StrCat("/api/users/", i);
        auto res = conn->Send("GET", target);
        if (!res.ok() || !res->keep_alive) conn.reset();
        if (res.ok()) {
          ++load_sent_;
        } else {
          ++load_errors_;
        }
        std::this_thread::sleep_for(1ms);  // pacing, not for correctness
      }
    });
  }
  void StopLoad() {
    stop_load_ = true;
    if (load_.joinable()) load_.join();
  }

  std::string chromium_;
  std::string shots_;
  std::thread load_;
  std::atomic<bool> stop_load_{false};
  std::atomic<int64_t> load_sent_{0};
  std::atomic<int64_t> load_errors_{0};
};

// What every run (wide or narrow) must show.
void ExpectLiveDashboard(const std::string& dom, const std::string& where) {
  const std::string main_tag = StartTag(dom, "id=\"dashboard\"");
  ASSERT_FALSE(main_tag.empty()) << "no dashboard page in the DOM, see " << where;
  EXPECT_EQ(Attribute(main_tag, "data-state"), "live") << main_tag << " (" << where << ")";
  EXPECT_EQ(Attribute(main_tag, "data-error"), std::nullopt) << main_tag << " (" << where << ")";
  EXPECT_GE(IntAttribute(main_tag, "data-samples"), 3) << main_tag << " (" << where << ")";
  std::string drawn;
  for (const char* chart : {"chart-rps", "chart-eps", "chart-cpk"}) {
    const std::string tag = StartTag(dom, absl::StrCat("id=\"", chart, "\""));
    EXPECT_GE(IntAttribute(tag, "data-samples"), 2) << chart << ": " << tag << " (" << where << ")";
    absl::StrAppend(&drawn, " ", chart, "=", IntAttribute(tag, "data-samples"), " (max ",
                    Attribute(tag, "data-max").value_or("?"), ")");
  }
  std::cout << "[dashboard] " << IntAttribute(main_tag, "data-samples")
            << " samples; points drawn:" << drawn << std::endl;
}

TEST_F(DashboardTest, ShowsRoutesClustersAndChartsInABrowser) {
  RW_ASSERT_OK(StartApp());
  const std::string app = env_.address("app");

  // Warm-up: 300 requests through the rewrite route on two keep-alive client connections, and 3
  // redirects.
  constexpr int kWarmRequests = 300;
  for (int c = 0; c < 2; ++c) {
    auto conn = Connect();
    RW_ASSERT_OK(conn);
    for (int i = 0; i < kWarmRequests / 2; ++i) {
      auto res = (*conn)->Send("GET", absl::StrCat("/api/warm/", c, "/", i));
      RW_ASSERT_OK(res);
      ASSERT_EQ(res->status, 200) << res->body;
    }
  }
  for (int i = 0; i < 3; ++i) {
    auto res = Get(absl::StrCat("/docs/warm/", i));
    RW_ASSERT_OK(res);
    ASSERT_EQ(res->status, 301) << res->body;
  }
  ASSERT_TRUE(CounterReaches("cluster.app.rq_total", kWarmRequests));
  StartLoad();

  const std::string url = absl::StrCat("http://127.0.0.1:", env_.admin_port(), "/");
  const std::string wide_png = shots_ + "/dashboard-1280x900.png";
  const std::string narrow_png = shots_ + "/dashboard-390x844.png";
  std::error_code ignored;
  std::filesystem::remove(wide_png, ignored);  // so that a stale screenshot cannot pass
  std::filesystem::remove(narrow_png, ignored);

  // Laptop: 15 s of virtual time, so about 15 samples at the page's 1 s interval.
  auto wide = RunChromium(url, 1280, 900, wide_png, env_.dir(), 15000, 60s);
  RW_ASSERT_OK(wide);
  const std::string wide_dom_path = env_.dir() + "/chromium-1280x900.dom.html";
  EXPECT_EQ(wide->exit_code, 0) << ReadFileTail(wide->stderr_path);
  ExpectLiveDashboard(wide->dom, wide_dom_path);

  // Every route of the config, in order, with its requests; the rewrite route shows its regex, a
  // path rewrite and its cluster, and counts at least the warm-up requests.
  size_t last_at = 0;
  for (const char* route : {"api", "short", "fixed-query", "hosted", "moved", "deny"}) {
    const size_t at = wide->dom.find(absl::StrCat("data-route=\"", route, "\""));
    ASSERT_NE(at, std::string::npos) << "route " << route << " not listed, see " << wide_dom_path;
    EXPECT_GT(at, last_at) << "route " << route << " out of order";
    last_at = at;
  }
  const std::string api = Row(wide->dom, "data-route=\"api\"");
  EXPECT_GE(IntAttribute(StartTag(api, "data-route="), "data-requests"), kWarmRequests) << api;
  EXPECT_NE(api.find("^/api/(.*)$"), std::string::npos) << api;
  EXPECT_NE(api.find(">path<"), std::string::npos) << "no path rewrite shown: " << api;
  EXPECT_NE(api.find(">/$1<"), std::string::npos) << "no rewrite template shown: " << api;
  EXPECT_NE(api.find(">app<"), std::string::npos) << "no target cluster shown: " << api;
  const std::string moved = Row(wide->dom, "data-route=\"moved\"");
  EXPECT_NE(moved.find("redirect 301"), std::string::npos) << moved;
  EXPECT_GT(IntAttribute(StartTag(moved, "data-route="), "data-requests"), 0) << moved;

  // The cluster, its pooled connections reused (most requests ride an existing connection), and
  // its endpoint with health and connections.
  const std::string cluster = StartTag(wide->dom, "data-cluster=\"app\"");
  ASSERT_FALSE(cluster.empty()) << "cluster app not listed, see " << wide_dom_path;
  double reuse = 0;
  ASSERT_TRUE(absl::SimpleAtod(Attribute(cluster, "data-reuse").value_or(""), &reuse)) << cluster;
  EXPECT_GT(reuse, 0.9) << cluster;
  const std::string endpoint = Row(wide->dom, absl::StrCat("data-endpoint=\"", app, "\""));
  ASSERT_FALSE(endpoint.empty()) << "endpoint " << app << " not listed, see " << wide_dom_path;
  EXPECT_EQ(Attribute(StartTag(endpoint, "data-endpoint="), "data-health"), "healthy") << endpoint;

  // The charts: 5xx answers were drawn, and the pool opened far fewer connections than requests.
  const std::string eps = StartTag(wide->dom, "id=\"chart-eps\"");
  EXPECT_NE(Attribute(eps, "data-max"), "0") << "no 5xx drawn: " << eps;
  const std::string cpk = StartTag(wide->dom, "id=\"chart-cpk\"");
  double cpk_max = -1;
  ASSERT_TRUE(absl::SimpleAtod(Attribute(cpk, "data-max").value_or(""), &cpk_max)) << cpk;
  EXPECT_LT(cpk_max, 1000) << "about one connection per request: " << cpk;

  // The version and, with no history on the admin listener, the versions seen by the page.
  const std::string version =
      Attribute(StartTag(wide->dom, "id=\"dashboard\""), "data-config-version").value_or("");
  EXPECT_EQ(version, absl::StrCat(Counter("server.config_version")));
  EXPECT_NE(wide->dom.find(absl::StrCat("<li data-version=\"", version, "\"")), std::string::npos);

  EXPECT_TRUE(IsPng(wide_png)) << wide_png;
  std::cout << "[dashboard] screenshot (1280x900): " << wide_png << std::endl;
  RecordProperty("screenshot_wide", wide_png);

  // Phone: the same page, narrow.
  auto narrow = RunChromium(url, 390, 844, narrow_png, env_.dir(), 8000, 60s);
  RW_ASSERT_OK(narrow);
  EXPECT_EQ(narrow->exit_code, 0) << ReadFileTail(narrow->stderr_path);
  ExpectLiveDashboard(narrow->dom, env_.dir() + "/chromium-390x844.dom.html");
  EXPECT_NE(narrow->dom.find("data-route=\"api\""), std::string::npos);
  EXPECT_TRUE(IsPng(narrow_png)) << narrow_png;
  std::cout << "[dashboard] screenshot (390x844): " << narrow_png << std::endl;
  RecordProperty("screenshot_narrow", narrow_png);

  StopLoad();
  EXPECT_GT(load_sent_.load(), 0);
  EXPECT_EQ(load_errors_.load(), 0);
}

}  // namespace
}  // namespace rwtest
