#include "cli/clusters_table.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/output.h"

namespace rwproxy::cli {
namespace {

namespace v1 = ::rwproxy::control::v1;

constexpr size_t kColumns = 8;

// A row of the table: aligned cells, or a cluster line (`line`, printed as it is; its first cell
// still counts for the first column's width).
struct Row {
  std::array<std::string, kColumns> cells;
  std::string line;
};

// Control characters would break the table's lines; show them as '?'.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

uint64_t CounterOr0(const v1::EndpointStatus& endpoint, const std::string& name) {
  auto it = endpoint.counters().find(name);
  return it == endpoint.counters().end() ? 0 : it->second;
}

Row EndpointRow(const v1::EndpointStatus& e) {
  std::string address = Printable(e.address());
  if (!e.source().empty() && e.source() != e.address()) {
    absl::StrAppend(&address, " (", Printable(e.source()), ")");
  }
  std::string reason = e.reason().empty() ? "-" : Printable(e.reason());
  if (e.ejections() > 0) absl::StrAppend(&reason, " (ejections: ", e.ejections(), ")");
  return {{"", address, Printable(e.health()), FormatUnixMs(e.since_unix_ms()),
           absl::StrCat(e.cx_active(), "/", e.cx_idle(), "/", e.rq_pending()),
           absl::StrCat(CounterOr0(e, "rq_total")), absl::StrCat(CounterOr0(e, "rq_5xx")), reason}};
}

std::string Render(const std::vector<Row>& rows) {
  std::array<size_t, kColumns> widths{};
  for (const Row& row : rows) {
    for (size_t i = 0; i < kColumns; ++i) widths[i] = std::max(widths[i], row.cells[i].size());
  }
  std::string out;
  for (const Row& row : rows) {
    if (!row.line.empty()) {
      absl::StrAppend(&out, row.line, "\n");
      continue;
    }
    std::string line;
    for (size_t i = 0; i < kColumns; ++i) {
      line.append(row.cells[i]);
      if (i + 1 < kColumns) line.append(widths[i] - row.cells[i].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace

std::string ClustersTable(const v1::GetClustersResponse& response) {
  std::vector<Row> rows;
  rows.push_back({{"CLUSTER", "ADDRESS", "HEALTH", "SINCE", "ACTIVE/IDLE/PENDING", "RQ_TOTAL",
                   "RQ_5XX", "REASON"}});
  for (const v1::ClusterStatus& cluster : response.clusters()) {
    Row& row = rows.emplace_back();
    row.cells[0] = row.line = Printable(cluster.name());
    if (cluster.panic()) {
      absl::StrAppend(&row.line, "  PANIC: no endpoint available, traffic goes to all");
    }
    if (cluster.endpoints().empty()) absl::StrAppend(&row.line, "  (no endpoints)");
    for (const auto& endpoint : cluster.endpoints()) rows.push_back(EndpointRow(endpoint));
  }
  return Render(rows);
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
