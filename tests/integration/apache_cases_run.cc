#include "tests/integration/apache_cases_run.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/apache_server.h"
#include "tests/support/http_client.h"

namespace rwtest {

absl::Status Upstreams::Start() {
  for (RecordingUpstream& up : up_) {
    absl::Status status = up.Start();
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

std::string Upstreams::address(int i) const { return absl::StrCat("127.0.0.1:", up_[i].port()); }

std::map<std::string, std::string> Upstreams::Placeholders() const {
  return {{"@UPSTREAM@", address(0)}, {"@UPSTREAM2@", address(1)}};
}

std::vector<std::pair<std::string, std::string>> Upstreams::Replacements(
    uint16_t front_port) const {
  return {{address(0), "@UPSTREAM@"},
          {address(1), "@UPSTREAM2@"},
          {absl::StrCat("127.0.0.1:", front_port), "@FRONT@"},
          {absl::StrCat(":", front_port), ":@FRONT_PORT@"}};
}

void Upstreams::SetReply(const UpstreamReplyFn& reply) {
  for (int i = 0; i < 2; ++i) {
    const std::string addr = address(i);
    if (reply) {
      up_[i].set_reply_fn(
          [reply, addr](const std::string& request) { return reply(request, addr); });
    } else {
      up_[i].set_reply_fn(nullptr);
    }
  }
}

std::vector<std::string> Upstreams::Errors() const {
  std::vector<std::string> out;
  for (int i = 0; i < 2; ++i) {
    for (const std::string& e : up_[i].errors()) {
      out.push_back(absl::StrCat("up", i + 1, ": ", e));
    }
  }
  return out;
}

std::vector<Observation> Observe(uint16_t port, const ImportCase& c, Upstreams& upstreams) {
  std::vector<Observation> out;
  for (const CaseRequest& request : c.requests) {
    const size_t before[2] = {upstreams.up(0).requests().size(), upstreams.up(1).requests().size()};
    // The upstream records a request before it answers, so once the response is here, what it
    // received for this request is recorded.
    auto response = Fetch(port, request.method, request.target, request.headers, request.body);
    Observation observation;
    std::vector<std::pair<std::string, std::string>> received;  // (upstream, bytes)
    for (int i = 0; i < 2; ++i) {
      auto requests = upstreams.up(i).requests();
      for (size_t k = before[i]; k < requests.size(); ++k) {
        received.emplace_back(absl::StrCat("up", i + 1), requests[k].bytes);
      }
    }
    if (received.size() == 1) {
      observation.upstream_side =
          UpstreamFields(received[0].first, received[0].second, c.request_headers);
    } else {
      std::string who = "(none)";
      if (!received.empty()) who = absl::StrCat(received[0].first, " x", received.size());
      observation.upstream_side = NoUpstreamFields(who, c.request_headers);
    }
    if (response.ok()) {
      std::string host;
      for (const auto& [name, value] : request.headers) {
        if (absl::EqualsIgnoreCase(name, "Host")) host = value;
      }
      observation.client_side = ClientFields(*response, c.response_headers, "http://" + host);
    } else {
      observation.client_side = {{"status", absl::StrCat("error: ", response.status().message())}};
    }
    out.push_back(std::move(observation));
  }
  return out;
}

absl::StatusOr<Imported> ImportApache(const std::string& rwctl, const std::string& config_path,
                                      const std::string& dir, std::chrono::milliseconds timeout) {
  const std::string report_path = dir + "/import-report.txt";
  auto run = RunCommand(rwctl, {"import", "apache", config_path, "--report", report_path}, dir,
                        "import", timeout);
  if (!run.ok()) return run.status();
  std::ifstream in(report_path);
  std::stringstream report;
  report << in.rdbuf();
  if (run->exit_code != 0 || run->out.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rwctl import apache ", config_path, " exited ", run->exit_code, "\nstderr:\n",
                     run->err, "\nreport:\n", report.str(), "\nstdout:\n", run->out));
  }
  return Imported{run->out, report.str() + run->err};
}

std::vector<std::string> ReportLines(const std::string& report, const std::string& verdict) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(report, '\n')) {
    if (absl::StrContains(line, absl::StrCat(": ", verdict, ":"))) out.emplace_back(line);
  }
  return out;
}

std::string Indented(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) absl::StrAppend(&out, "  ", line, "\n");
  return out;
}

std::string Dump(const ImportCase& c, const std::vector<Observation>& observations) {
  std::string out;
  for (size_t i = 0; i < observations.size() && i < c.requests.size(); ++i) {
    absl::StrAppend(&out, "  ", Describe(c.requests[i]), "\n   ");
    for (const Fields* fields : {&observations[i].upstream_side, &observations[i].client_side}) {
      for (const auto& [name, value] : *fields) absl::StrAppend(&out, " ", name, "=", value);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace rwtest
