#include "server/upstream/cluster_status.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace rwproxy {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF count as invalid).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t n = 0;
  uint32_t code = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2, code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3, code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4, code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  if (n == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) return 0;
  if (n == 4 && (code < 0x10000 || code > 0x10ffff)) return 0;
  return n;
}

// A JSON string literal: quotes, backslashes and control characters escaped; bytes that are not
// valid UTF-8 become U+FFFD, so the document is always valid JSON.
void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(text, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          constexpr char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
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
                  ",\"cx_idle\":", e.cx_idle, ",\"rq_pending\":", e.rq_pending, ",\"counters\":{");
  bool first = true;
  for (const auto& [name, value] : e.counters) {  // std::map: sorted by name
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(name, out);
    absl::StrAppend(out, ":", value);
  }
  out->append("}}");
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
           absl::StrCat(CounterOr0(e.counters, "rq_5xx")), reason}};
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
    out.append("]}");
  }
  out.append("]}\n");
  return out;
}

std::string ClustersToText(const std::vector<ClusterStatus>& clusters) {
  std::vector<Row> rows;
  rows.push_back({{"CLUSTER", "ADDRESS", "HEALTH", "SINCE", "ACTIVE/IDLE/PENDING", "RQ_TOTAL",
                   "RQ_5XX", "REASON"}});
  for (const ClusterStatus& cluster : clusters) {
    Row& row = rows.emplace_back();
    row.cells[0] = row.line = Printable(cluster.name);
    if (cluster.panic) {
      absl::StrAppend(&row.line, "  PANIC: no endpoint available, traffic goes to all");
    }
    if (cluster.endpoints.empty()) absl::StrAppend(&row.line, "  (no endpoints)");
    for (const EndpointStatus& endpoint : cluster.endpoints) rows.push_back(EndpointRow(endpoint));
  }
  return Render(rows);
}

}  // namespace rwproxy
