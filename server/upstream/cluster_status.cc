#include "server/upstream/cluster_status.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/log/log.h"

namespace rwproxy {
namespace {

// A JSON string literal (log::AppendJsonEscaped: invalid UTF-8 becomes U+FFFD).
void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  log::AppendJsonEscaped(out, text);
  out->push_back('"');
}

// ,"counters":{...}} (closes the endpoint object).
void AppendCountersJson(const CounterMap& counters, std::string* out) {
  out->append(",\"counters\":{");
  bool first = true;
  for (const auto& [name, value] : counters) {  // std::map: sorted by name
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(name, out);
    absl::StrAppend(out, ":", value);
  }
  out->append("}}");
}

void AppendEndpointJson(const EndpointStatus& e, std::string* out) {
  out->append("{\"address\":");
  AppendJsonString(e.address, out);
  out->append(",\"source\":");
  AppendJsonString(e.source, out);
  out->append(",\"health\":");
  AppendJsonString(e.health, out);
  absl::StrAppend(out, ",\"since_unix_ms\":", e.since_unix_ms, ",\"reason\":");
  AppendJsonString(e.reason, out);
  absl::StrAppend(out, ",\"ejections\":", e.ejections, ",\"cx_active\":", e.cx_active,
                  ",\"cx_idle\":", e.cx_idle, ",\"rq_pending\":", e.rq_pending);
  AppendCountersJson(e.counters, out);
}

// A name with no address: what there is to say about it.
void AppendUnresolvedJson(const EndpointStatus& e, std::string* out) {
  out->append("{\"source\":");
  AppendJsonString(e.source, out);
  out->append(",\"health\":");
  AppendJsonString(e.health, out);
  absl::StrAppend(out, ",\"since_unix_ms\":", e.since_unix_ms, ",\"reason\":");
  AppendJsonString(e.reason, out);
  absl::StrAppend(out, ",\"retry_unix_ms\":", e.retry_unix_ms);
  AppendCountersJson(e.counters, out);
}

// "2024-05-01T10:00:00Z", or "-" for 0 (in that state since the endpoint was added).
std::string FormatSince(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

// Control characters would break the table's lines; show them as '?'.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

uint64_t CounterOr0(const CounterMap& counters, const char* name) {
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

constexpr size_t kColumns = 8;

// A row of the text table: aligned cells, or a cluster line (`line`, printed as it is; its first
// cell still counts for the first column's width).
struct Row {
  std::array<std::string, kColumns> cells;
  std::string line;
};

Row EndpointRow(const EndpointStatus& e) {
  std::string address = Printable(e.address);
  if (!e.source.empty() && e.source != e.address) {
    absl::StrAppend(&address, " (", Printable(e.source), ")");
  }
  std::string reason = e.reason.empty() ? "-" : Printable(e.reason);
  if (e.ejections > 0) absl::StrAppend(&reason, " (ejections: ", e.ejections, ")");
  return {{"", address, Printable(e.health), FormatSince(e.since_unix_ms),
           absl::StrCat(e.cx_active, "/", e.cx_idle, "/", e.rq_pending),
           absl::StrCat(CounterOr0(e.counters, "rq_total")),
           absl::StrCat(CounterOr0(e.counters, "rq_5xx")), reason},
          ""};
}

// A name with no address: no connections or requests; the reason says when it is tried next.
Row UnresolvedRow(const EndpointStatus& e) {
  std::string reason = e.reason.empty() ? "-" : Printable(e.reason);
  if (e.retry_unix_ms != 0) {
    absl::StrAppend(&reason, "; next lookup ", FormatSince(e.retry_unix_ms));
  }
  return {{"", Printable(e.source), Printable(e.health), FormatSince(e.since_unix_ms), "-", "-",
           "-", reason},
          ""};
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

std::string ClustersToJson(const std::vector<ClusterStatus>& clusters) {
  std::string out = "{\"clusters\":[";
  for (size_t c = 0; c < clusters.size(); ++c) {
    const ClusterStatus& cluster = clusters[c];
    if (c > 0) out.push_back(',');
    out.append("{\"name\":");
    AppendJsonString(cluster.name, &out);
    absl::StrAppend(&out, ",\"panic\":", cluster.panic ? "true" : "false", ",\"endpoints\":[");
    for (size_t e = 0; e < cluster.endpoints.size(); ++e) {
      if (e > 0) out.push_back(',');
      AppendEndpointJson(cluster.endpoints[e], &out);
    }
    out.append("],\"unresolved\":[");
    for (size_t e = 0; e < cluster.unresolved.size(); ++e) {
      if (e > 0) out.push_back(',');
      AppendUnresolvedJson(cluster.unresolved[e], &out);
    }
    out.append("]}");
  }
  out.append("]}\n");
  return out;
}

std::string ClustersToText(const std::vector<ClusterStatus>& clusters) {
  std::vector<Row> rows;
  rows.push_back({{"CLUSTER", "ADDRESS", "HEALTH", "SINCE", "ACTIVE/IDLE/PENDING", "RQ_TOTAL",
                   "RQ_5XX", "REASON"},
                  ""});
  for (const ClusterStatus& cluster : clusters) {
    Row& row = rows.emplace_back();
    row.cells[0] = row.line = Printable(cluster.name);
    if (cluster.panic) {
      absl::StrAppend(&row.line, "  PANIC: no endpoint available, traffic goes to all");
    }
    if (!cluster.unresolved.empty()) {
      absl::StrAppend(&row.line, cluster.endpoints.empty() ? "  (no resolved endpoint; " : "  (",
                      cluster.unresolved.size(), " unresolved)");
    } else if (cluster.endpoints.empty()) {
      absl::StrAppend(&row.line, "  (no endpoints)");
    }
    for (const EndpointStatus& endpoint : cluster.endpoints) rows.push_back(EndpointRow(endpoint));
    for (const EndpointStatus& name : cluster.unresolved) rows.push_back(UnresolvedRow(name));
  }
  return Render(rows);
}

}  // namespace rwproxy
