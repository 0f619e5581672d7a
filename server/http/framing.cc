#include "server/http/framing.h"

#include <array>

namespace rwproxy {
namespace {

constexpr size_t kMaxConnectionOptions = 32;

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Calls f(element) for each comma-separated element of a field value, OWS trimmed. Returns false
// if f does.
template <typename F>
bool ForEachElement(std::string_view value, F&& f) {
  for (;;) {
    size_t comma = value.find(',');
    if (!f(TrimOws(value.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

// The fields the policy looks at, recognised once per field by length and then by name.
enum class FieldId : uint8_t {
  kOther, kHost, kTe, kExpect, kUpgrade, kTrailer, kConnection, kKeepAlive, kContentLength,
  kTransferEncoding, kProxyConnection, kXForwardedFor, kXForwardedProto
};

FieldId Classify(std::string_view name) {
  switch (name.size()) {
    case 2:
      return EqualsIgnoreCase(name, "te") ? FieldId::kTe : FieldId::kOther;
    case 4:
      return EqualsIgnoreCase(name, "host") ? FieldId::kHost : FieldId::kOther;
    case 6:
      return EqualsIgnoreCase(name, "expect") ? FieldId::kExpect : FieldId::kOther;
    case 7:
      if (EqualsIgnoreCase(name, "upgrade")) return FieldId::kUpgrade;
      return EqualsIgnoreCase(name, "trailer") ? FieldId::kTrailer : FieldId::kOther;
    case 10:
      if (EqualsIgnoreCase(name, "connection")) return FieldId::kConnection;
      return EqualsIgnoreCase(name, "keep-alive") ? FieldId::kKeepAlive : FieldId::kOther;
    case 14:
      return EqualsIgnoreCase(name, "content-length") ? FieldId::kContentLength : FieldId::kOther;
    case 15:
      return EqualsIgnoreCase(name, "x-forwarded-for") ? FieldId::kXForwardedFor
                                                        : FieldId::kOther;
    case 16:
      return EqualsIgnoreCase(name, "proxy-connection") ? FieldId::kProxyConnection
                                                         : FieldId::kOther;
    case 17:
      if (EqualsIgnoreCase(name, "transfer-encoding")) return FieldId::kTransferEncoding;
      return EqualsIgnoreCase(name, "x-forwarded-proto") ? FieldId::kXForwardedProto
                                                          : FieldId::kOther;
    default:
      return FieldId::kOther;
  }
}

constexpr uint32_t Bit(FieldId id) { return 1u << static_cast<int>(id); }
// Hop-by-hop (RFC 9110 §7.6.1) or restated by the proxy on both sides.
constexpr uint32_t kHopByHop = Bit(FieldId::kConnection) | Bit(FieldId::kKeepAlive) |
                               Bit(FieldId::kProxyConnection) | Bit(FieldId::kTe) |
                               Bit(FieldId::kTrailer) | Bit(FieldId::kTransferEncoding) |
                               Bit(FieldId::kUpgrade) | Bit(FieldId::kContentLength);
// Also restated on requests: Host, Expect, X-Forwarded-For, X-Forwarded-Proto.
constexpr uint32_t kRestatedOnRequests = Bit(FieldId::kHost) | Bit(FieldId::kExpect) |
                                         Bit(FieldId::kXForwardedFor) |
                                         Bit(FieldId::kXForwardedProto);

bool Fail(PolicyError* error, int status, const char* reason) {
  error->status = status;
  error->reason = reason;
  return false;
}

// Fields and options common to both directions, gathered in one pass.
struct Scan {
  int transfer_encoding = 0;  // fields seen
  int content_length = 0;
  int host = 0;
  int host_index = -1;
  bool chunked_final = false;  // the last coding seen so far is chunked
  bool chunked_twice = false;
  bool bad_coding = false;      // an element that is not a plain token
  bool unknown_coding = false;  // a coding other than chunked
  bool bad_length = false;
  uint64_t length = 0;
  bool close = false;
  bool keep_alive = false;
  bool expect_other = false;
  bool expect_continue = false;
  bool bad_connection = false;
  bool connection_upgrade = false;  // Connection lists "upgrade"
  int upgrade = 0;                  // Upgrade fields seen
  int upgrade_index = -1;
  std::array<std::string_view, kMaxConnectionOptions> options;
  size_t option_count = 0;
  FieldId ids[kMaxHeaders];
};

bool ParseLength(std::string_view v, uint64_t* out) {
  if (v.empty() || v.size() > 19) return false;  // 19 digits always fit in 63 bits
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

void ScanFields(const MessageHead& head, const char* base, Scan* s) {
  for (int i = 0; i < head.header_count; ++i) {
    const HeaderField& field = head.headers[i];
    std::string_view value = field.value.In(base);
    const FieldId id = Classify(field.name.In(base));
    s->ids[i] = id;
    if (id == FieldId::kTransferEncoding) {
      ++s->transfer_encoding;
      ForEachElement(value, [&](std::string_view coding) {
        if (!IsToken(coding)) {
          s->bad_coding = true;
        } else if (EqualsIgnoreCase(coding, "chunked")) {
          if (s->chunked_final) s->chunked_twice = true;
          s->chunked_final = true;
          return true;
        } else {
          s->unknown_coding = true;
        }
        if (s->chunked_final) s->chunked_twice = true;  // chunked was not the final coding
        s->chunked_final = false;
        return true;
      });
    } else if (id == FieldId::kContentLength) {
      uint64_t n = 0;
      if (!ParseLength(value, &n) || (s->content_length > 0 && n != s->length)) {
        s->bad_length = true;
      }
      s->length = n;
      ++s->content_length;
    } else if (id == FieldId::kHost) {
      ++s->host;
      s->host_index = i;
    } else if (id == FieldId::kUpgrade) {
      ++s->upgrade;
      s->upgrade_index = i;
    } else if (id == FieldId::kConnection) {
      ForEachElement(value, [&](std::string_view option) {
        if (option.empty()) return true;
        if (EqualsIgnoreCase(option, "close")) {
          s->close = true;
        } else if (EqualsIgnoreCase(option, "keep-alive")) {
          s->keep_alive = true;
        } else if (!IsToken(option) || s->option_count == kMaxConnectionOptions) {
          s->bad_connection = true;
        } else {
          if (EqualsIgnoreCase(option, "upgrade")) s->connection_upgrade = true;
          s->options[s->option_count++] = option;
        }
        return true;
      });
    } else if (id == FieldId::kExpect) {
      if (EqualsIgnoreCase(value, "100-continue")) {
        s->expect_continue = true;
      } else {
        s->expect_other = true;
      }
    }
  }
}

// Marks hop-by-hop fields, fields named by Connection, and the `extra` ones as dropped.
void MarkDropped(const MessageHead& head, const char* base, const Scan& s, uint32_t extra,
                 std::bitset<kMaxHeaders>* drop) {
  const uint32_t dropped_ids = kHopByHop | extra;
  for (int i = 0; i < head.header_count; ++i) {
    bool dropped = (Bit(s.ids[i]) & dropped_ids) != 0;
    for (size_t k = 0; !dropped && k < s.option_count; ++k) {
      dropped = EqualsIgnoreCase(head.headers[i].name.In(base), s.options[k]);
    }
    if (dropped) drop->set(i);
  }
}

// Splits an origin-form target into path and query.
void SplitOrigin(std::string_view target, RequestFraming* out) {
  size_t q = target.find('?');
  out->path = target.substr(0, q);
  out->query = q == std::string_view::npos ? std::string_view() : target.substr(q);
}

bool CheckTarget(std::string_view target, RequestFraming* out, PolicyError* error) {
  if (target.find('#') != std::string_view::npos) {
    return Fail(error, 400, "fragment in request target");
  }
  if (target[0] == '/') {
    SplitOrigin(target, out);
    return true;
  }
  if (target == "*") {
    if (out->method != "OPTIONS") return Fail(error, 400, "asterisk-form target without OPTIONS");
    out->options_asterisk = true;
    out->path = "*";
    return true;
  }
  // absolute-form: http://authority[/path][?query]
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos ||
      !(EqualsIgnoreCase(target.substr(0, scheme), "http") ||
        EqualsIgnoreCase(target.substr(0, scheme), "https"))) {
    return Fail(error, 400, "invalid request target");
  }
  std::string_view rest = target.substr(scheme + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return Fail(error, 400, "userinfo in request target");
  }
  if (!IsValidHost(authority)) return Fail(error, 400, "invalid authority in request target");
  out->host = authority;
  if (end == std::string_view::npos) {
    out->path = "/";
  } else if (rest[end] == '?') {
    out->path = "/";
    out->query = rest.substr(end);
  } else {
    SplitOrigin(rest.substr(end), out);
  }
  return true;
}

}  // namespace

bool IsValidHost(std::string_view host) {
  if (host.empty()) return false;
  size_t port = host.size();
  if (host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') || c == ':' ||
            c == '.')) {
        return false;
      }
    }
    if (close + 1 < host.size() && host[close + 1] != ':') return false;
    port = close + 1;
  } else {
    port = host.find(':');
    if (port == 0) return false;
    for (char c : host.substr(0, port)) {
      unsigned char u = static_cast<unsigned char>(c);
      bool ok = (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') ||
                std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos;
      if (!ok) return false;
    }
    if (port == std::string_view::npos) return true;
  }
  if (port >= host.size()) return true;
  std::string_view digits = host.substr(port + 1);
  if (digits.size() > 5) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool CheckRequest(const MessageHead& head, const char* base, RequestFraming* out,
                  PolicyError* error) {
  *out = RequestFraming{};
  out->method = head.method.In(base);
  out->head_method = out->method == "HEAD";
  if (out->method == "CONNECT") return Fail(error, 405, "CONNECT is not supported");
  Scan s;
  ScanFields(head, base, &s);
  const bool http11 = head.version_minor == 1;
  if (!CheckTarget(head.target.In(base), out, error)) return false;
  if (s.transfer_encoding > 0) {
    if (!http11) return Fail(error, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (s.content_length > 0) return Fail(error, 400, "Transfer-Encoding with Content-Length");
    if (s.bad_coding) return Fail(error, 400, "invalid Transfer-Encoding");
    if (!s.chunked_final || s.chunked_twice) {
      return Fail(error, 400, "chunked is not the final transfer coding");
    }
    if (s.unknown_coding) return Fail(error, 501, "unsupported transfer coding");
    out->body = BodyKind::kChunked;
  } else if (s.content_length > 0) {
    if (s.bad_length) return Fail(error, 400, "invalid Content-Length");
    out->length = s.length;
    out->body = s.length > 0 ? BodyKind::kLength : BodyKind::kNone;
  }
  if (s.host > 1) return Fail(error, 400, "more than one Host field");
  if (s.host == 1) {
    std::string_view host = head.headers[s.host_index].value.In(base);
    if (!IsValidHost(host)) return Fail(error, 400, "invalid Host");
    if (out->host.empty()) out->host = host;  // an absolute-form authority wins
  } else if (http11 && out->host.empty()) {
    return Fail(error, 400, "missing Host");
  }
  if (s.bad_connection) return Fail(error, 400, "invalid Connection");
  if (http11 && s.expect_other) return Fail(error, 417, "unsupported expectation");
  out->expect_continue = http11 && s.expect_continue && out->body != BodyKind::kNone;
  out->keep_alive = !s.close && (http11 || s.keep_alive);
  MarkDropped(head, base, s, kRestatedOnRequests, &out->drop);
  // An upgrade offer (RFC 9110 §7.8): one Upgrade field named by Connection, HTTP/1.1, no body.
  // Whether it is tunnelled is the route's choice; otherwise both fields are dropped as
  // hop-by-hop and the request is forwarded as a plain one.
  if (http11 && s.connection_upgrade && s.upgrade == 1 && out->body == BodyKind::kNone &&
      !out->expect_continue) {
    std::string_view protocols = head.headers[s.upgrade_index].value.In(base);
    bool valid = !protocols.empty();
    ForEachElement(protocols, [&](std::string_view protocol) {
      // protocol-name ["/" protocol-version], both tokens
      size_t slash = protocol.find('/');
      if (!IsToken(protocol.substr(0, slash)) ||
          (slash != std::string_view::npos && !IsToken(protocol.substr(slash + 1)))) {
        valid = false;
      }
      return valid;
    });
    if (valid) out->upgrade = protocols;
  }
  return true;
}

namespace {
// The protocol name of an Upgrade element: "websocket" of "websocket/13".
std::string_view ProtocolName(std::string_view protocol) {
  return protocol.substr(0, protocol.find('/'));
}
bool NameIn(std::string_view name, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}
}  // namespace

bool UpgradeAllowed(std::string_view offered, const std::vector<std::string>& allowed) {
  std::string ignored;
  return AllowedUpgrades(offered, allowed, &ignored);
}

bool AllowedUpgrades(std::string_view offered, const std::vector<std::string>& allowed,
                     std::string* out) {
  out->clear();
  if (offered.empty() || allowed.empty()) return false;
  ForEachElement(offered, [&](std::string_view protocol) {
    if (!protocol.empty() && NameIn(ProtocolName(protocol), allowed)) {
      if (!out->empty()) out->append(", ");
      out->append(protocol);
    }
    return true;
  });
  return !out->empty();
}

bool CheckResponse(const MessageHead& head, const char* base, bool head_request,
                   ResponseFraming* out, PolicyError* error, std::string_view upgrade_sent) {
  *out = ResponseFraming{};
  Scan s;
  ScanFields(head, base, &s);
  const bool http11 = head.version_minor == 1;
  if (head.status == 101) {
    if (upgrade_sent.empty()) return Fail(error, 502, "upstream switched protocols (101)");
    if (s.bad_connection) return Fail(error, 502, "invalid Connection in response");
    if (!http11 || s.upgrade != 1 || !s.connection_upgrade) {
      return Fail(error, 502, "101 without Upgrade and Connection: upgrade");
    }
    // Only to a protocol that was offered (and so allowed by the route): an upstream that
    // switches to another one (h2c for a websocket route) would get a tunnel the route never
    // allowed.
    std::vector<std::string> sent;
    ForEachElement(upgrade_sent, [&](std::string_view p) {
      sent.emplace_back(ProtocolName(p));
      return true;
    });
    bool chosen_ok = true;
    size_t chosen = 0;
    ForEachElement(head.headers[s.upgrade_index].value.In(base), [&](std::string_view p) {
      ++chosen;
      if (p.empty() || !IsToken(ProtocolName(p)) || !NameIn(ProtocolName(p), sent)) {
        chosen_ok = false;
      }
      return chosen_ok;
    });
    if (!chosen_ok || chosen == 0) {
      return Fail(error, 502, "101 to a protocol that was not offered");
    }
    if (s.transfer_encoding > 0 || s.content_length > 0) {
      return Fail(error, 502, "101 with a message body framing");
    }
    MarkDropped(head, base, s, 0, &out->drop);
    out->switching = true;  // from here on the connection is a tunnel: never reused
    out->reusable = false;
    return true;
  }
  if (s.bad_connection) return Fail(error, 502, "invalid Connection in response");
  MarkDropped(head, base, s, 0, &out->drop);
  out->reusable = !s.close && (http11 || s.keep_alive);
  if (head.status < 200) {
    out->interim = true;
    out->forward_interim = head.status != 100;
    return true;
  }
  if (s.transfer_encoding > 0) {
    if (!http11) return Fail(error, 502, "Transfer-Encoding in an HTTP/1.0 response");
    if (s.content_length > 0) return Fail(error, 502, "Transfer-Encoding with Content-Length");
    if (s.bad_coding || s.unknown_coding || !s.chunked_final || s.chunked_twice) {
      return Fail(error, 502, "unsupported Transfer-Encoding in response");
    }
  } else if (s.content_length > 0 && s.bad_length) {
    return Fail(error, 502, "invalid Content-Length in response");
  }
  out->has_length = s.content_length > 0 && s.transfer_encoding == 0;
  if (head_request || head.status == 204 || head.status == 304) {
    // No body, whatever the fields say. A 204/304 that announces one may be followed by stray
    // bytes: do not reuse the connection.
    if (head.status != 304 && !head_request && (s.transfer_encoding > 0 || s.length > 0)) {
      out->reusable = false;
    }
    if (head.status == 304 && s.transfer_encoding > 0) out->reusable = false;
    out->length = s.length;
    return true;
  }
  if (s.transfer_encoding > 0) {
    out->body = BodyKind::kChunked;
  } else if (s.content_length > 0) {
    out->length = s.length;
    out->body = s.length > 0 ? BodyKind::kLength : BodyKind::kNone;
  } else {
    out->body = BodyKind::kUntilClose;
    out->reusable = false;
  }
  return true;
}

int64_t KeepAliveHintMs(const MessageHead& head, const char* base) {
  for (int i = 0; i < head.header_count; ++i) {
    if (Classify(head.headers[i].name.In(base)) != FieldId::kKeepAlive) continue;
    int64_t result = 0;
    ForEachElement(head.headers[i].value.In(base), [&](std::string_view part) {
      if (part.size() > 8 && EqualsIgnoreCase(part.substr(0, 8), "timeout=")) {
        uint64_t seconds = 0;
        if (ParseLength(part.substr(8), &seconds) && seconds > 0 && seconds < 86400) {
          result = static_cast<int64_t>(seconds) * 1000;
        }
      }
      return true;
    });
    return result;
  }
  return 0;
}

bool IsIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

}  // namespace rwproxy
