#include "server/upstream/resolver.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"

namespace rwproxy {
namespace {

std::string& HostsFile() {
  static std::string path;
  return path;
}

}  // namespace

void SetHostsFile(std::string path) { HostsFile() = std::move(path); }

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
  const std::string& hosts_file = HostsFile();
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

}  // namespace rwproxy
