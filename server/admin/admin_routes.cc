#include "server/admin/admin_routes.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "re2/re2.h"
#include "server/admin/config_dump.h"
#include "server/admin/dashboard.h"
#include "server/log/log.h"

#ifndef RWPROXY_BUILD_TYPE
#define RWPROXY_BUILD_TYPE ""
#endif

namespace rwproxy::admin_internal {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// Set when the process starts (static initialisation), for /server_info's uptime.
const auto kProcessStart = std::chrono::steady_clock::now();
constexpr std::chrono::milliseconds kDrainPoll{50};

constexpr char kHelp[] =
    "unknown admin path; try GET / (dashboard) /ready /healthz /stats /stats?format=json "
    "/stats?filter=REGEX /metrics /clusters /clusters?format=text /config_dump /server_info "
    "/logging /drain?wait=20s; POST /drain /logging?level=debug /quitquitquit\n";

// Which methods each path takes; the second is its Allow header.
struct PathMethods {
  std::string_view path;
  std::string_view allow;
};
constexpr PathMethods kPaths[] = {
    {"/", "GET, HEAD"},
    {"/ready", "GET, HEAD"},
    {"/healthz", "GET, HEAD"},
    {"/stats", "GET, HEAD"},
    {"/metrics", "GET, HEAD"},
    {"/clusters", "GET, HEAD"},
    {"/config_dump", "GET, HEAD"},
    {"/server_info", "GET, HEAD"},
    {"/logging", "GET, HEAD, POST"},
    {"/drain", "GET, POST"},
    {"/quitquitquit", "POST"},
};

bool Allows(std::string_view allow, http::verb method) {
  const std::string_view name = http::to_string(method);
  for (std::string_view rest = allow; !rest.empty();) {
    const size_t comma = rest.find(", ");
    if (rest.substr(0, comma) == name) return true;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  return false;
}

void Reply(Response* response, http::status status, std::string body) {
  response->result(status);
  response->body() = std::move(body);
}

void ReplyJson(Response* response, std::string json) {
  response->set(http::field::content_type, "application/json");
  response->body() = std::move(json);
  response->body().push_back('\n');
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A duration parameter: absent -> `absent`; otherwise 0..kMaxDrainWait, or an error message.
absl::StatusOr<absl::Duration> DurationParam(std::string_view target, std::string_view name,
                                             absl::Duration absent) {
  auto text = QueryParam(target, name);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absent;
  absl::Duration d;
  if (!absl::ParseDuration(**text, &d) || d < absl::ZeroDuration() || d > kMaxDrainWait) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(name), ": '", **text, "' is not a duration from 0s to ",
                     absl::FormatDuration(kMaxDrainWait), " such as 20s"));
  }
  return d;
}

std::string CompilerName() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

std::string BuildType() {
  std::string type = RWPROXY_BUILD_TYPE;
  if (!type.empty()) return type;
#ifdef NDEBUG
  return "NDEBUG";
#else
  return "debug";
#endif
}

void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  log::AppendJsonEscaped(out, text);
  out->push_back('"');
}

}  // namespace

bool IsLoopback(const asio::ip::address& address) {
  if (address.is_v4()) return address.to_v4().is_loopback();
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback();
  }
  return v6.is_loopback();
}

absl::StatusOr<std::optional<std::string>> QueryParam(std::string_view target,
                                                      std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    if (param.substr(0, eq) != name) continue;
    const std::string_view raw =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    std::string value;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '%') {
        value.push_back(raw[i]);
        continue;
      }
      const int hi = i + 2 < raw.size() ? HexDigit(raw[i + 1]) : -1;
      const int lo = i + 2 < raw.size() ? HexDigit(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(name), ": bad percent-escape in '", std::string(raw), "'"));
      }
      value.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    return value;
  }
  return std::nullopt;
}

asio::awaitable<AdminRoutes::Then> AdminRoutes::Handle(const Request& request, bool from_loopback,
                                                       Response* response) {
  response->set(http::field::content_type, "text/plain; charset=utf-8");
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const auto known = std::find_if(std::begin(kPaths), std::end(kPaths),
                                  [&](const PathMethods& p) { return p.path == path; });
  if (known == std::end(kPaths)) {
    Reply(response, http::status::not_found, kHelp);
    co_return Then::kNothing;
  }
  const http::verb method = request.method();
  if (!Allows(known->allow, method)) {
    response->set(http::field::allow, known->allow);
    Reply(response, http::status::method_not_allowed,
          absl::StrCat(std::string(path), " takes ", std::string(known->allow), "\n"));
    co_return Then::kNothing;
  }
  if (method == http::verb::post && !from_loopback) {
    Reply(response, http::status::forbidden,
          "admin POST actions answer only clients on loopback (kubectl exec or port-forward)\n");
    co_return Then::kNothing;
  }
  if (path == "/") {
    response->set(http::field::content_type, "text/html; charset=utf-8");
    response->body() = DashboardHtml();
  } else if (path == "/ready") {
    const bool ready = handlers_.ready();
    Reply(response, ready ? http::status::ok : http::status::service_unavailable,
          ready ? "ready\n" : "not ready (draining or not configured)\n");
  } else if (path == "/healthz") {
    Reply(response, http::status::ok, "ok\n");
  } else if (path == "/stats" || path == "/metrics") {
    Stats(target, path == "/metrics", response);
  } else if (path == "/clusters") {
    auto format = QueryParam(target, "format");
    const std::string value = format.ok() ? format->value_or("") : "?";
    if (value != "" && value != "json" && value != "text") {
      Reply(response, http::status::bad_request, "format must be json or text\n");
    } else if (!handlers_.clusters) {
      Reply(response, http::status::service_unavailable, "cluster status is not available\n");
    } else if (value == "text") {
      response->body() = ClustersToText(handlers_.clusters());
    } else {
      response->set(http::field::content_type, "application/json");
      response->body() = ClustersToJson(handlers_.clusters());
    }
  } else if (path == "/config_dump") {
    ConfigDump(response);
  } else if (path == "/server_info") {
    ServerInfoJson(response);
  } else if (path == "/logging") {
    Logging(request, response);
  } else if (path == "/drain") {
    co_await Drain(request, response);
  } else if (path == "/quitquitquit") {
    if (!handlers_.quit) {
      Reply(response, http::status::service_unavailable, "quitting is not available\n");
      co_return Then::kNothing;
    }
    Reply(response, http::status::ok, "quitting: draining, then exiting\n");
    co_return Then::kQuit;
  }
  co_return Then::kNothing;
}

void AdminRoutes::Stats(std::string_view target, bool prometheus, Response* response) {
  auto format = QueryParam(target, "format");
  auto filter = QueryParam(target, "filter");
  if (!format.ok() || !filter.ok()) {
    const absl::Status& bad = !format.ok() ? format.status() : filter.status();
    return Reply(response, http::status::bad_request, absl::StrCat(bad.message(), "\n"));
  }
  const std::string format_name = format->value_or(prometheus ? "prometheus" : "text");
  if (!prometheus && format_name != "text" && format_name != "json") {
    return Reply(response, http::status::bad_request, "format must be text or json\n");
  }
  std::optional<RE2> regex;
  if (filter->has_value()) {
    RE2::Options options;
    options.set_log_errors(false);
    regex.emplace(**filter, options);
    if (!regex->ok()) {
      return Reply(response, http::status::bad_request,
                   absl::StrCat("filter: bad regex: ", regex->error(), "\n"));
    }
  }
  StatsSnapshot stats = handlers_.stats();
  if (regex) stats = FilterStats(stats, *regex);
  if (prometheus) {
    response->set(http::field::content_type, "text/plain; version=0.0.4");
    response->body() = stats.ToPrometheus();
  } else if (format_name == "json") {
    ReplyJson(response, stats.ToJson());
  } else {
    response->body() = stats.ToText();
  }
}

void AdminRoutes::ConfigDump(Response* response) {
  std::shared_ptr<const Snapshot> snapshot = handlers_.snapshot ? handlers_.snapshot() : nullptr;
  if (snapshot == nullptr) {
    return Reply(response, http::status::service_unavailable, "no live config\n");
  }
  std::vector<ClusterStatus> live;
  if (handlers_.clusters) live = handlers_.clusters();
  ReplyJson(response, ConfigDumpJson(*snapshot, live));
}

void AdminRoutes::ServerInfoJson(Response* response) {
  const auto uptime = std::chrono::steady_clock::now() - kProcessStart;
  std::shared_ptr<const Snapshot> snapshot = handlers_.snapshot ? handlers_.snapshot() : nullptr;
  std::string out = "{\"version\":";
  AppendJsonString(&out, RWPROXY_VERSION);
  out.append(",\"build\":{\"compiler\":");
  AppendJsonString(&out, CompilerName());
  out.append(",\"build_type\":");
  AppendJsonString(&out, BuildType());
  absl::StrAppend(
      &out, "},\"uptime_s\":", std::chrono::duration_cast<std::chrono::seconds>(uptime).count(),
      ",\"workers\":", handlers_.info.workers,
      ",\"config_version\":", snapshot ? snapshot->version : 0, ",\"state_dir\":");
  AppendJsonString(&out, handlers_.info.state_dir);
  out.append(",\"flags\":{");
  for (size_t i = 0; i < handlers_.info.flags.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, handlers_.info.flags[i].first);
    out.push_back(':');
    AppendJsonString(&out, handlers_.info.flags[i].second);
  }
  out.append("}}");
  ReplyJson(response, std::move(out));
}

void AdminRoutes::Logging(const Request& request, Response* response) {
  const log::Level current = log::GetLevel();
  const std::string was(log::LevelName(current));
  if (request.method() != http::verb::post) {
    return Reply(response, http::status::ok, absl::StrCat("level: ", was, "\n"));
  }
  auto text = QueryParam(request.target(), "level");
  log::Level level;
  if (!text.ok() || !text->has_value() || !log::ParseLevel(**text, &level)) {
    return Reply(response, http::status::bad_request,
                 "POST /logging needs ?level=debug, info, warn or error\n");
  }
  const std::string now(log::LevelName(level));
  log::Info("admin", absl::StrCat("log level ", was, " -> ", now, " (POST /logging)"));
  log::SetLevel(level);
  Reply(response, http::status::ok, absl::StrCat("level: ", now, " (was ", was, ")\n"));
}

asio::awaitable<void> AdminRoutes::Drain(const Request& request, Response* response) {
  const std::string_view target = request.target();
  auto wait_text = QueryParam(target, "wait");
  const bool waits = wait_text.ok() && wait_text->has_value();
  if (request.method() == http::verb::get && wait_text.ok() && !waits) {
    co_return Reply(response, http::status::bad_request,
                    "GET /drain needs ?wait=DURATION (at most 5m); POST /drain starts the drain "
                    "without waiting\n");
  }
  auto wait = DurationParam(target, "wait", absl::ZeroDuration());
  auto min = DurationParam(target, "min", absl::ZeroDuration());
  if (!wait.ok() || !min.ok()) {
    const absl::Status& bad = !wait.ok() ? wait.status() : min.status();
    co_return Reply(response, http::status::bad_request, absl::StrCat(bad.message(), "\n"));
  }
  if (*min > *wait) {
    co_return Reply(response, http::status::bad_request, "min must not exceed wait\n");
  }
  if (!handlers_.begin_drain) {
    co_return Reply(response, http::status::service_unavailable, "draining is not available\n");
  }
  if (!admin_drain_) {
    log::Info("admin", absl::StrCat(std::string(request.method_string()), " ", std::string(target),
                                    ": draining"));
  }
  handlers_.begin_drain();
  admin_drain_ = true;
  if (!waits) co_return Reply(response, http::status::ok, "draining\n");
  const auto start = std::chrono::steady_clock::now();
  const uint64_t open = co_await WaitForDrain(*min, *wait);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ReplyJson(response,
            absl::StrCat("{\"drained\":", open == 0 ? "true" : "false",
                         ",\"open_connections\":", open, ",\"waited_ms\":", waited.count(), "}"));
}

uint64_t AdminRoutes::OpenClientConnections() const {
  uint64_t open = 0;
  for (const auto& [name, counters] : handlers_.stats().listeners) {
    auto it = counters.find("downstream_cx_active");
    if (it != counters.end()) open += it->second;
  }
  return open;
}

asio::awaitable<uint64_t> AdminRoutes::WaitForDrain(absl::Duration min, absl::Duration max) {
  const auto start = std::chrono::steady_clock::now();
  const auto earliest = start + absl::ToChronoMilliseconds(min);
  const auto deadline = start + absl::ToChronoMilliseconds(max);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const uint64_t open = OpenClientConnections();
    const auto now = std::chrono::steady_clock::now();
    if ((open == 0 && now >= earliest) || now >= deadline) co_return open;
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(kDrainPoll, deadline - now));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> AdminRoutes::Quit() {
  if (admin_drain_) co_await WaitForDrain(absl::ZeroDuration(), handlers_.drain_timeout);
  log::Info("admin", "POST /quitquitquit: exiting as on SIGTERM");
  handlers_.quit();
}

}  // namespace rwproxy::admin_internal
