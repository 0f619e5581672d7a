#include "cli/targets.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rwproxy::cli {
namespace {

std::string Trimmed(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseServersFile(std::string_view text) {
  std::vector<std::string> out;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::string entry = Trimmed(line);
    if (entry.empty()) continue;
    if (std::any_of(entry.begin(), entry.end(),
                    [](char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); })) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_no, ": '", entry, "' is not one address (host:port or unix:/path)"));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ResolveServers(const std::vector<std::string>& flags,
                                                        const std::string& servers_file,
                                                        const char* env_server) {
  std::vector<std::string> out;
  for (const std::string& flag : flags) {
    std::string entry = Trimmed(flag);
    if (entry.empty()) return absl::InvalidArgumentError("--server: empty address");
    out.push_back(std::move(entry));
  }
  if (!servers_file.empty()) {
    auto text = ReadInput(servers_file);
    if (!text.ok()) return text.status();
    auto entries = ParseServersFile(*text);
    if (!entries.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(servers_file, ": ", entries.status().message()));
    }
    if (entries->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(servers_file, ": no server addresses"));
    }
    out.insert(out.end(), entries->begin(), entries->end());
  }
  if (out.empty()) {
    std::string env = env_server != nullptr ? Trimmed(env_server) : "";
    out.push_back(env.empty() ? kDefaultServer : env);
  }
  return out;
}

absl::StatusOr<std::string> ResolveToken(const std::string& token_file, const char* env_token) {
  if (!token_file.empty()) {
    auto text = ReadInput(token_file);
    if (!text.ok()) return text.status();
    std::string token = Trimmed(*text);
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--token-file ", token_file, " is empty"));
    }
    return token;
  }
  return env_token != nullptr ? Trimmed(env_token) : "";
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return buffer.str();
}

void RunPerTarget(size_t count, size_t max_threads, const std::function<void(size_t)>& fn) {
  if (count == 1 || max_threads <= 1) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(count, max_threads); ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++) fn(i);
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace rwproxy::cli
