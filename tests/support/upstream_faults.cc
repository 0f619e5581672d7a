#include "tests/support/upstream_faults.h"

#include <charconv>
#include <optional>

namespace rwupstream {

namespace {

constexpr uint64_t kMaxDelayMs = 3600000;

bool ParseUint(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// The new values of one /__set query; unset keys stay as they are.
struct Update {
  std::optional<unsigned> status;
  std::optional<bool> hang;
  std::optional<uint64_t> delay_ms;
  std::optional<unsigned> health;
  std::optional<uint64_t> health_delay_ms;
};

// Parses "key=value" into `update`; returns "" or what is wrong.
std::string ParsePair(std::string_view pair, Update& update) {
  const auto eq = pair.find('=');
  const std::string_view key = pair.substr(0, eq);
  if (key != "status" && key != "hang" && key != "delay_ms" && key != "health" &&
      key != "health_delay_ms") {
    return "unknown key '" + std::string(key) + "'";
  }
  const std::string bad = "bad value in '" + std::string(pair) + "'";
  uint64_t value = 0;
  if (eq == std::string_view::npos || !ParseUint(pair.substr(eq + 1), value)) return bad;
  if (key == "status") {
    if (value != 0 && !ValidStatus(value)) return bad;
    update.status = static_cast<unsigned>(value);
  } else if (key == "hang") {
    if (value > 1) return bad;
    update.hang = value == 1;
  } else if (key == "health") {
    if (!ValidStatus(value)) return bad;
    update.health = static_cast<unsigned>(value);
  } else {
    if (value > kMaxDelayMs) return bad;
    (key == "delay_ms" ? update.delay_ms : update.health_delay_ms) = value;
  }
  return "";
}

}  // namespace

bool IsControlPath(std::string_view path) {
  return path == kSetPath || path == kStatsPath || path == kHealthPath;
}

bool ValidStatus(uint64_t status) { return status >= 200 && status <= 599; }

std::string Faults::Apply(std::string_view query) {
  Update update;
  bool any = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    if (std::string error = ParsePair(pair, update); !error.empty()) return error;
    any = true;
  }
  if (!any) return "nothing to set";
  constexpr auto kOrder = std::memory_order_relaxed;
  if (update.status) status_.store(*update.status, kOrder);
  if (update.hang) hang_.store(*update.hang, kOrder);
  if (update.delay_ms) delay_ms_.store(*update.delay_ms, kOrder);
  if (update.health) health_status_.store(*update.health, kOrder);
  if (update.health_delay_ms) health_delay_ms_.store(*update.health_delay_ms, kOrder);
  return "";
}

void Faults::Count(std::string_view path) {
  if (path == kHealthPath) {
    ++health_checks_;
  } else if (!IsControlPath(path)) {
    ++requests_default_;
  }
}

}  // namespace rwupstream
