#include "cli/clusters_table.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/output.h"
#include "cli/table.h"

namespace rwproxy::cli {
namespace {

namespace v1 = ::rwproxy::control::v1;

uint64_t CounterOr0(const v1::EndpointStatus& endpoint, const std::string& name) {
  auto it = endpoint.counters().find(name);
  return it == endpoint.counters().end() ? 0 : it->second;
}

TableRow EndpointRow(const v1::EndpointStatus& e) {
  std::string address = Printable(e.address());
  if (!e.source().empty() && e.source() != e.address()) {
    absl::StrAppend(&address, " (", Printable(e.source()), ")");
  }
  std::string reason = e.reason().empty() ? "-" : Printable(e.reason());
  if (e.ejections() > 0) absl::StrAppend(&reason, " (ejections: ", e.ejections(), ")");
  return {{"", address, Printable(e.health()), FormatUnixMs(e.since_unix_ms()),
           absl::StrCat(e.cx_active(), "/", e.cx_idle(), "/", e.rq_pending()),
           absl::StrCat(CounterOr0(e, "rq_total")), absl::StrCat(CounterOr0(e, "rq_5xx")), reason},
          ""};
}

// A name with no address yet: no connections or requests; the reason says when it is tried next.
TableRow UnresolvedRow(const v1::EndpointStatus& e) {
  std::string reason = e.reason().empty() ? "-" : Printable(e.reason());
  if (e.retry_unix_ms() != 0) {
    absl::StrAppend(&reason, "; next lookup ", FormatUnixMs(e.retry_unix_ms()));
  }
  return {{"", Printable(e.source()), Printable(e.health()), FormatUnixMs(e.since_unix_ms()), "-",
           "-", "-", reason},
          ""};
}

}  // namespace

std::string ClustersTable(const v1::GetClustersResponse& response) {
  std::vector<TableRow> rows;
  rows.push_back({{"CLUSTER", "ADDRESS", "HEALTH", "SINCE", "ACTIVE/IDLE/PENDING", "RQ_TOTAL",
                   "RQ_5XX", "REASON"},
                  ""});
  for (const v1::ClusterStatus& cluster : response.clusters()) {
    TableRow& row = rows.emplace_back();
    row.cells = {Printable(cluster.name())};
    row.line = row.cells[0];
    if (cluster.panic()) {
      absl::StrAppend(&row.line, "  PANIC: no endpoint available, traffic goes to all");
    }
    if (!cluster.unresolved().empty()) {
      absl::StrAppend(&row.line, cluster.endpoints().empty() ? "  (no resolved endpoint; " : "  (",
                      cluster.unresolved().size(), " unresolved)");
    } else if (cluster.endpoints().empty()) {
      absl::StrAppend(&row.line, "  (no endpoints)");
    }
    for (const auto& endpoint : cluster.endpoints()) rows.push_back(EndpointRow(endpoint));
    for (const auto& name : cluster.unresolved()) rows.push_back(UnresolvedRow(name));
  }
  return RenderTable(rows);
}

std::string FormatPercent(double probability) {
  std::string text = absl::StrFormat("%.1f", probability * 100.0);
  if (text == "0.0" && probability > 0) return "<0.1%";
  if (text.size() > 2 && text.ends_with(".0")) text.resize(text.size() - 2);
  return text + "%";
}

std::string BackendLine(const v1::ExplainBackend& backend) {
  std::string line =
      absl::StrCat("backend ", backend.cluster(), " ", FormatPercent(backend.probability()));
  if (!backend.endpoint().empty()) absl::StrAppend(&line, " (", backend.endpoint(), ")");
  return line;
}

}  // namespace rwproxy::cli
