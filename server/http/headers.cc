#include "server/http/headers.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/beast/http/rfc7230.hpp"
#include "server/util/sv.h"

namespace rwproxy {

void StripHopByHop(http::fields* fields) {
  auto connection = fields->find(http::field::connection);
  if (connection != fields->end()) {
    // Copy the tokens first: erasing invalidates the value.
    std::vector<std::string> named;
    for (auto token : http::token_list(connection->value())) named.emplace_back(token);
    for (const auto& name : named) {
      if (!absl::EqualsIgnoreCase(name, "close") && !absl::EqualsIgnoreCase(name, "keep-alive")) {
        fields->erase(name);
      }
    }
    fields->erase(http::field::connection);
  }
  fields->erase(http::field::keep_alive);
  fields->erase(http::field::proxy_connection);
  fields->erase(http::field::te);
  fields->erase(http::field::trailer);
  fields->erase(http::field::transfer_encoding);
  fields->erase(http::field::upgrade);
}

void PrepareUpstreamRequest(http::request_header<>* head, std::string_view target,
                            std::optional<std::string_view> host, std::string_view client_address,
                            std::string_view default_host, std::optional<uint64_t> content_length,
                            bool chunked) {
  StripHopByHop(head);
  head->erase(http::field::expect);
  head->erase(http::field::content_length);
  head->target(target);
  head->version(11);
  if (host) {
    head->set(http::field::host, *host);
  } else if (head->find(http::field::host) == head->end()) {
    head->set(http::field::host, default_host);
  }
  auto xff = head->find("X-Forwarded-For");
  if (xff == head->end()) {
    head->set("X-Forwarded-For", client_address);
  } else {
    head->set("X-Forwarded-For", absl::StrCat(Sv(xff->value()), ", ", Sv(client_address)));
  }
  if (head->find("X-Forwarded-Proto") == head->end()) {
    head->set("X-Forwarded-Proto", "http");
  }
  if (content_length) {
    head->set(http::field::content_length, std::to_string(*content_length));
  } else if (chunked) {
    head->set(http::field::transfer_encoding, "chunked");
  }
}

bool PrepareDownstreamResponse(http::response_header<>* head, unsigned client_version,
                               bool keep_alive, bool has_body,
                               std::optional<uint64_t> body_length) {
  StripHopByHop(head);
  head->version(client_version);
  if (has_body) {
    if (body_length) {
      head->set(http::field::content_length, std::to_string(*body_length));
    } else if (client_version >= 11) {
      head->erase(http::field::content_length);
      head->set(http::field::transfer_encoding, "chunked");
    } else {
      head->erase(http::field::content_length);
      keep_alive = false;  // HTTP/1.0 client: the body ends when the connection does
    }
  }
  // keep_alive() lives on message<>, not header<>: state it by hand (RFC 9112 9.3).
  if (client_version >= 11 && !keep_alive) head->set(http::field::connection, "close");
  if (client_version < 11 && keep_alive) head->set(http::field::connection, "keep-alive");
  return keep_alive;
}

std::chrono::milliseconds KeepAliveHint(const http::fields& fields) {
  auto it = fields.find(http::field::keep_alive);
  if (it == fields.end()) return std::chrono::milliseconds(0);
  for (absl::string_view part : absl::StrSplit(Sv(it->value()), ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!absl::StartsWithIgnoreCase(part, "timeout=")) continue;
    int seconds = 0;
    if (absl::SimpleAtoi(part.substr(8), &seconds) && seconds > 0) {
      return std::chrono::milliseconds(seconds * 1000LL);
    }
  }
  return std::chrono::milliseconds(0);
}

namespace {
void AppendFields(const http::fields& fields, std::string* out) {
  for (const auto& field : fields) {
    out->append(field.name_string());
    out->append(": ");
    out->append(field.value());
    out->append("\r\n");
  }
  out->append("\r\n");
}
}  // namespace

void SerializeHead(const http::request_header<>& head, std::string* out) {
  out->clear();
  out->append(head.method_string());
  out->push_back(' ');
  out->append(head.target());
  out->append(head.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  AppendFields(head, out);
}

void SerializeHead(const http::response_header<>& head, std::string* out) {
  out->clear();
  out->append(head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  unsigned status = head.result_int();
  char digits[3] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10),
                    char('0' + status % 10)};
  out->append(digits, 3);
  out->push_back(' ');
  out->append(head.reason());
  out->append("\r\n");
  AppendFields(head, out);
}

bool IsIdempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_:
      return true;
    default:
      return false;
  }
}

bool ExpectsContinue(const http::request_header<>& head) {
  auto it = head.find(http::field::expect);
  return head.version() >= 11 && it != head.end() &&
         absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(Sv(it->value())), "100-continue");
}

}  // namespace rwproxy
