#include "server/upstream/resolver.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <system_error>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"

namespace rwproxy {
namespace {

constexpr size_t kMaxLookupThreads = 8;    // per ResolveAll call
constexpr int kMaxLiveLookupThreads = 32;  // in all: lookups a dead resolver holds up
std::atomic<int> g_live_lookup_threads{0};

// Never destroyed: a lookup thread ResolveAll stopped waiting for may still read it at exit.
struct HostsFileState {
  std::mutex mu;
  std::string path;
};
HostsFileState& HostsFile() {
  static auto* state = new HostsFileState;
  return *state;
}

std::string CurrentHostsFile() {
  HostsFileState& state = HostsFile();
  std::lock_guard<std::mutex> lock(state.mu);
  return state.path;
}

// The lookups of one ResolveAll call, shared with its threads (which may outlive the call).
struct LookupBatch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> hosts;  // distinct names
  std::vector<Resolution> results;
  std::vector<bool> answered;
  size_t next = 0;         // the next name a thread takes
  size_t done = 0;         // answers so far
  bool abandoned = false;  // the caller stopped waiting: take no more names
};

void LookUp(const std::shared_ptr<LookupBatch>& batch) {
  std::unique_lock<std::mutex> lock(batch->mu);
  while (!batch->abandoned && batch->next < batch->hosts.size()) {
    const size_t i = batch->next++;
    const std::string host = batch->hosts[i];
    lock.unlock();
    Resolution resolution = Resolve(host, 0);
    lock.lock();
    batch->results[i] = std::move(resolution);
    batch->answered[i] = true;
    ++batch->done;
    batch->cv.notify_all();
  }
}

}  // namespace

void SetHostsFile(std::string path) {
  HostsFileState& state = HostsFile();
  std::lock_guard<std::mutex> lock(state.mu);
  state.path = std::move(path);
}

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::vector<boost::asio::ip::address> LookupHostsText(const std::string& text,
                                                      const std::string& name) {
  std::vector<boost::asio::ip::address> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.size() < 2) continue;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(words[0]), ec);
    if (ec) continue;
    for (size_t i = 1; i < words.size(); ++i) {
      if (absl::EqualsIgnoreCase(words[i], name)) {
        out.push_back(address);
        break;
      }
    }
  }
  return out;
}

Resolution Resolve(const std::string& host, uint16_t port) {
  Resolution result;
  boost::system::error_code ec;
  auto literal = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    result.ok = true;
    result.addresses.emplace_back(literal, port);
    return result;
  }
  const std::string hosts_file = CurrentHostsFile();
  if (!hosts_file.empty()) {
    std::ifstream in(hosts_file);
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& address : LookupHostsText(text.str(), host)) {
      result.addresses.emplace_back(address, port);
    }
  }
  if (result.addresses.empty()) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      result.error =
          absl::StrCat("cannot resolve '", host, "': ", ec ? ec.message() : "no address");
      return result;
    }
    for (const auto& entry : results) result.addresses.push_back(entry.endpoint());
  }
  std::sort(result.addresses.begin(), result.addresses.end());
  result.addresses.erase(std::unique(result.addresses.begin(), result.addresses.end()),
                         result.addresses.end());
  result.ok = true;
  return result;
}

std::vector<Resolution> ResolveAll(const std::vector<std::pair<std::string, uint16_t>>& names,
                                   absl::Duration deadline) {
  auto batch = std::make_shared<LookupBatch>();
  absl::flat_hash_map<std::string, size_t> index;  // name -> its slot in the batch
  for (const auto& [host, port] : names) {
    if (IsIpLiteral(host) || index.contains(host)) continue;
    index.emplace(host, batch->hosts.size());
    batch->hosts.push_back(host);
  }
  const size_t n = batch->hosts.size();
  batch->results.resize(n);
  batch->answered.resize(n, false);
  // Threads stuck in earlier lookups (a dead resolver answers only at its own timeout) count
  // against kMaxLiveLookupThreads; with none to spare the names count as unresolved at once and
  // are left to the EndpointMonitor's retries.
  size_t started = 0;
  for (; started < std::min(n, kMaxLookupThreads); ++started) {
    if (g_live_lookup_threads.fetch_add(1) >= kMaxLiveLookupThreads) {
      g_live_lookup_threads.fetch_sub(1);
      break;
    }
    try {
      std::thread([batch] {
        LookUp(batch);
        g_live_lookup_threads.fetch_sub(1);
      }).detach();
    } catch (const std::system_error&) {
      g_live_lookup_threads.fetch_sub(1);
      break;
    }
  }
  {
    std::unique_lock<std::mutex> lock(batch->mu);
    if (started > 0) {
      batch->cv.wait_for(lock, absl::ToChronoMilliseconds(deadline),
                         [&] { return batch->done == n; });
    }
    batch->abandoned = true;
  }
  std::vector<Resolution> out;
  out.reserve(names.size());
  std::lock_guard<std::mutex> lock(batch->mu);
  for (const auto& [host, port] : names) {
    if (IsIpLiteral(host)) {
      out.push_back(Resolve(host, port));
      continue;
    }
    const size_t i = index.at(host);
    Resolution& r = out.emplace_back();
    if (!batch->answered[i]) {
      r.error = started == 0 ? absl::StrCat("cannot resolve '", host, "': resolver busy (",
                                            kMaxLiveLookupThreads, " lookups not answered yet)")
                             : absl::StrCat("cannot resolve '", host, "': no answer within ",
                                            absl::FormatDuration(deadline));
      continue;
    }
    r.ok = batch->results[i].ok;
    r.error = batch->results[i].error;
    for (const auto& address : batch->results[i].addresses) {
      r.addresses.emplace_back(address.address(), port);
    }
  }
  return out;
}

}  // namespace rwproxy
