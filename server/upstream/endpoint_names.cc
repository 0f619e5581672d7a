#include "server/upstream/endpoint_names.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/log/log.h"

namespace rwproxy {
namespace {

std::vector<EndpointInfo> AddressesOf(const EndpointSpec& spec, const Resolution& answer) {
  std::vector<EndpointInfo> out;
  for (const auto& address : answer.addresses) {
    out.push_back({EndpointKey(address), address, spec.Key()});
  }
  return out;
}

}  // namespace

void LogNameChanges(const std::string& cluster, const std::vector<EndpointNames::Change>& changes,
                    size_t serving) {
  for (const EndpointNames::Change& change : changes) {
    const std::string prefix = absl::StrCat("cluster ", cluster, ": endpoint ", change.source);
    switch (change.kind) {
      case EndpointNames::Change::kUnresolved:
        log::Warn("dns", absl::StrCat(prefix, " does not resolve yet (", change.detail, "); ",
                                      serving > 0 ? "serving the other endpoints"
                                                  : "no endpoint to serve (503) until it does",
                                      ", retrying in background"));
        break;
      case EndpointNames::Change::kKept:
        log::Warn("dns", absl::StrCat(prefix, " does not resolve now (", change.detail,
                                      "); keeping its last addresses"));
        break;
      case EndpointNames::Change::kResolved:
        log::Info("dns", absl::StrCat(prefix, " resolves now (", change.detail,
                                      "); it joins the cluster"));
        break;
    }
  }
}

std::string JoinKeys(const std::vector<EndpointInfo>& endpoints) {
  std::string out;
  for (const EndpointInfo& endpoint : endpoints) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", endpoint.key);
  }
  return out;
}

size_t EndpointNames::Configure(const ClusterInfo& info, Now now, std::vector<Change>* changes) {
  configured_ = info.configured;
  refresh_ = std::max(std::chrono::milliseconds(1), absl::ToChronoMilliseconds(info.dns_refresh));
  next_refresh_ = now.steady + refresh_;
  next_refresh_unix_ms_ = now.unix_ms + refresh_.count();
  auto old_resolved = std::move(resolved_);
  auto old_unresolved = std::move(unresolved_);
  resolved_.clear();
  unresolved_.clear();
  names_.clear();

  absl::flat_hash_map<std::string, std::vector<EndpointInfo>> compiled;  // source -> addresses
  for (const EndpointInfo& endpoint : info.endpoints) compiled[endpoint.source].push_back(endpoint);
  absl::flat_hash_map<std::string, const UnresolvedEndpoint*> failed;
  for (const UnresolvedEndpoint& name : info.unresolved) failed.emplace(name.source, &name);

  absl::flat_hash_set<std::string> seen;
  for (const EndpointSpec& spec : configured_) {
    const std::string source = spec.Key();
    if (IsIpLiteral(spec.host) || !seen.insert(source).second) continue;
    names_.push_back(spec);
    auto bad = failed.find(source);
    if (bad == failed.end()) {
      // Resolved by the compile (a name sharing its addresses with an earlier one may have none
      // of its own in info.endpoints; the next refresh fills them in).
      resolved_[source] = std::move(compiled[source]);
      if (old_unresolved.contains(source)) {
        changes->push_back({Change::kResolved, source, JoinKeys(resolved_[source])});
      }
      continue;
    }
    const std::string& error = bad->second->error;
    auto last = old_resolved.find(source);
    if (last != old_resolved.end() && !last->second.empty()) {
      resolved_[source] = std::move(last->second);  // never lose the last good addresses
      changes->push_back({Change::kKept, source, error});
      continue;
    }
    auto old = old_unresolved.find(source);
    Unresolved& name = unresolved_[source];
    if (old != old_unresolved.end()) {
      name = old->second;  // still failing: same since, backoff goes on
    } else {
      name.since_unix_ms = now.unix_ms;
      changes->push_back({Change::kUnresolved, source, error});
    }
    Fail(&name, error, now);
  }
  return info.unresolved.size();
}

void EndpointNames::Fail(Unresolved* name, const std::string& error, Now now) {
  name->error = error;
  ++name->failures;
  name->backoff = name->backoff.count() == 0 ? std::min(kFirstRetry, refresh_)
                                             : std::min(name->backoff * 2, refresh_);
  name->retry_at = now.steady + name->backoff;
  name->retry_unix_ms = now.unix_ms + name->backoff.count();
}

std::vector<EndpointSpec> EndpointNames::Due(Clock::time_point now, bool* full) const {
  *full = !names_.empty() && now >= next_refresh_;
  if (*full) return names_;
  std::vector<EndpointSpec> due;
  if (unresolved_.empty()) return due;
  for (const EndpointSpec& spec : names_) {
    auto it = unresolved_.find(spec.Key());
    if (it != unresolved_.end() && now >= it->second.retry_at) due.push_back(spec);
  }
  return due;
}

size_t EndpointNames::OnAnswers(const std::vector<EndpointSpec>& names,
                                const std::vector<Resolution>& answers, bool full, Now now,
                                std::vector<Change>* changes) {
  size_t failures = 0;
  for (size_t i = 0; i < names.size() && i < answers.size(); ++i) {
    const std::string source = names[i].Key();
    auto unresolved = unresolved_.find(source);
    if (!answers[i].ok) {
      ++failures;  // a resolved name keeps its last addresses
      if (unresolved != unresolved_.end()) Fail(&unresolved->second, answers[i].error, now);
      continue;
    }
    std::vector<EndpointInfo>& addresses = resolved_[source];
    addresses = AddressesOf(names[i], answers[i]);
    if (unresolved != unresolved_.end()) {
      unresolved_.erase(unresolved);
      changes->push_back({Change::kResolved, source, JoinKeys(addresses)});
    }
  }
  if (full) {
    next_refresh_ = now.steady + refresh_;
    next_refresh_unix_ms_ = now.unix_ms + refresh_.count();
  }
  return failures;
}

std::vector<EndpointInfo> EndpointNames::Endpoints() const {
  std::vector<EndpointInfo> out;
  absl::flat_hash_set<std::string> keys;
  for (const EndpointSpec& spec : configured_) {
    if (IsIpLiteral(spec.host)) {
      boost::system::error_code ec;  // a literal: parses
      boost::asio::ip::tcp::endpoint address(boost::asio::ip::make_address(spec.host, ec),
                                             spec.port);
      std::string key = EndpointKey(address);
      if (keys.insert(key).second) out.push_back({std::move(key), address, spec.Key()});
      continue;
    }
    auto it = resolved_.find(spec.Key());
    if (it == resolved_.end()) continue;
    for (const EndpointInfo& endpoint : it->second) {
      if (keys.insert(endpoint.key).second) out.push_back(endpoint);
    }
  }
  return out;
}

std::vector<std::string> EndpointNames::UnresolvedNames() const {
  std::vector<std::string> out;
  for (const EndpointSpec& spec : names_) {
    std::string source = spec.Key();
    if (unresolved_.contains(source)) out.push_back(std::move(source));
  }
  return out;
}

const EndpointNames::Unresolved* EndpointNames::FindUnresolved(const std::string& source) const {
  auto it = unresolved_.find(source);
  return it == unresolved_.end() ? nullptr : &it->second;
}

int64_t EndpointNames::NextLookupUnixMs(const Unresolved& name) const {
  return std::min(name.retry_unix_ms, next_refresh_unix_ms_);
}

}  // namespace rwproxy
