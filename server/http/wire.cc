#include "server/http/wire.h"

#include <bitset>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace rwproxy {
namespace {

void AppendNumber(uint64_t n, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out->append(digits, end);
}

// Adds the runs of kept field lines (consecutive lines are contiguous in the buffer). Fields in
// `rewritten` are replaced, in order, by the lines of `rewritten_lines` (in the scratch string;
// one "name: value\r\n" each, and values hold no CR or LF).
void AddKeptFields(const MessageHead& head, const char* base, const std::bitset<kMaxHeaders>& drop,
                   const std::bitset<kMaxHeaders>& rewritten, std::string_view rewritten_lines,
                   Gather* out) {
  int i = 0;
  while (i < head.header_count) {
    if (drop.test(i)) {
      ++i;
      continue;
    }
    if (rewritten.test(i)) {
      const size_t line_end = rewritten_lines.find("\r\n") + 2;
      out->Add(rewritten_lines.substr(0, line_end));
      rewritten_lines.remove_prefix(line_end);
      ++i;
      continue;
    }
    uint32_t begin = head.headers[i].line.off;
    uint32_t end = head.headers[i].line.end();
    while (++i < head.header_count && !drop.test(i) && !rewritten.test(i) &&
           head.headers[i].line.off == end) {
      end = head.headers[i].line.end();
    }
    out->Add(base + begin, end - begin);
  }
}

void AddKeptFields(const MessageHead& head, const char* base, const std::bitset<kMaxHeaders>& drop,
                   Gather* out) {
  AddKeptFields(head, base, drop, {}, {}, out);
}

void AppendField(std::string_view name, std::string_view value, std::string* out) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

// True if `ops` removes or replaces the fields called `name`.
bool Edits(const HeaderOpsSpec& ops, std::string_view name) {
  for (const std::string& removed : ops.remove) {
    if (EqualsIgnoreCase(name, removed)) return true;
  }
  for (const auto& [set, value] : ops.set) {
    if (EqualsIgnoreCase(name, set)) return true;
  }
  return false;
}

// Marks the fields `ops` removes or replaces as dropped.
void DropEdited(const MessageHead& head, const char* base, const HeaderOpsSpec& ops,
                std::bitset<kMaxHeaders>* drop) {
  if (ops.remove.empty() && ops.set.empty()) return;
  for (int i = 0; i < head.header_count; ++i) {
    if (!drop->test(i) && Edits(ops, head.headers[i].name.In(base))) drop->set(i);
  }
}

void AppendSetAndAdd(const HeaderOpsSpec& ops, std::string* out) {
  for (const auto& [name, value] : ops.set) AppendField(name, value, out);
  for (const auto& [name, value] : ops.add) AppendField(name, value, out);
}

bool IsLocationField(std::string_view name) {
  return EqualsIgnoreCase(name, "location") || EqualsIgnoreCase(name, "content-location") ||
         EqualsIgnoreCase(name, "uri");
}

// Appends the rewritten line of every kept URL field whose value starts with a `from` (the first
// that matches) and marks it in *rewritten (ProxyPassReverse).
void RewriteLocations(const MessageHead& head, const char* base,
                      const std::vector<LocationRewriteSpec>& rewrites,
                      const std::bitset<kMaxHeaders>& drop, std::bitset<kMaxHeaders>* rewritten,
                      std::string* out) {
  for (int i = 0; i < head.header_count; ++i) {
    const HeaderField& field = head.headers[i];
    if (drop.test(i) || !IsLocationField(field.name.In(base))) continue;
    const std::string_view value = field.value.In(base);
    for (const LocationRewriteSpec& rewrite : rewrites) {
      if (!value.starts_with(rewrite.from)) continue;
      out->append(field.name.In(base));
      out->append(": ");
      out->append(rewrite.to);
      out->append(value.substr(rewrite.from.size()));
      out->append("\r\n");
      rewritten->set(i);
      break;
    }
  }
}

void AppendFraming(BodyKind body, uint64_t length, std::string* out) {
  if (body == BodyKind::kLength) {
    out->append("Content-Length: ");
    AppendNumber(length, out);
    out->append("\r\n");
  } else if (body == BodyKind::kChunked) {
    out->append("Transfer-Encoding: chunked\r\n");
  }
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

}  // namespace

size_t BuildUpstreamHead(const MessageHead& head, const char* base, const RequestFraming& framing,
                         const UpstreamHead& params, std::string* scratch, Gather* out) {
  const HeaderOpsSpec* ops = params.ops != nullptr && !params.ops->empty() ? params.ops : nullptr;
  std::bitset<kMaxHeaders> drop = framing.drop;
  if (ops) DropEdited(head, base, *ops, &drop);
  std::string& s = *scratch;
  s.clear();
  s.append(framing.method);
  s.push_back(' ');
  s.append(params.target);
  s.append(" HTTP/1.1\r\n");
  const size_t split = s.size();
  s.append("Host: ");
  s.append(params.host);
  s.append("\r\n");
  const size_t host_end = s.size();
  if (!ops || !Edits(*ops, "x-forwarded-for")) {
    s.append("X-Forwarded-For: ");
    for (int i = 0; i < head.header_count; ++i) {
      if (EqualsIgnoreCase(head.headers[i].name.In(base), "x-forwarded-for")) {
        std::string_view value = head.headers[i].value.In(base);
        if (value.empty()) continue;
        s.append(value);
        s.append(", ");
      }
    }
    s.append(params.client_address);
    s.append("\r\n");
  }
  if (!ops || !Edits(*ops, "x-forwarded-proto")) {
    s.append(params.tls ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n");
  }
  if (!params.upgrade.empty()) {
    s.append("Connection: upgrade\r\n");
    AppendField("Upgrade", params.upgrade, &s);
  }
  if (!params.request_id.empty() && (!ops || !Edits(*ops, "x-request-id"))) {
    AppendField("X-Request-Id", params.request_id, &s);
  }
  if (ops) AppendSetAndAdd(*ops, &s);
  AppendFraming(params.body, params.length, &s);
  s.append("\r\n");
  out->Add(s.data(), split);
  AddKeptFields(head, base, drop, out);
  const size_t host_piece = out->count();
  out->Add(s.data() + split, host_end - split);
  out->Add(s.data() + host_end, s.size() - host_end);
  return host_piece;
}

void BuildClientHead(const MessageHead& head, const char* base, const ResponseFraming& framing,
                     const ClientHead& params, std::string* scratch, Gather* out) {
  // A forwarded 1xx (102, 103) goes out as the upstream sent it: the route's response_headers
  // are for the final response.
  const ResponseHeaderOpsSpec* ops =
      head.status >= 200 && params.ops != nullptr && !params.ops->empty() ? params.ops : nullptr;
  std::bitset<kMaxHeaders> drop = framing.drop;
  if (ops) DropEdited(head, base, *ops, &drop);
  std::string& s = *scratch;
  s.clear();
  s.append("HTTP/1.1");
  s.append(head.start_line.In(base).substr(8));  // " NNN reason"
  s.append("\r\n");
  const size_t split = s.size();
  if (head.status >= 200) {
    if (ops) AppendSetAndAdd(*ops, &s);
    if (params.bodiless) {
      if (framing.has_length && head.status != 204) AppendFraming(BodyKind::kLength, framing.length, &s);
    } else if (params.body == BodyKind::kNone) {
      s.append("Content-Length: 0\r\n");
    } else if (params.body != BodyKind::kUntilClose) {
      AppendFraming(params.body, params.length, &s);
    }
    // Stated for both versions: the status line says HTTP/1.1 even to an HTTP/1.0 client.
    if (!params.keep_alive) s.append("Connection: close\r\n");
    if (params.keep_alive && params.client_minor == 0) s.append("Connection: keep-alive\r\n");
  } else if (head.status == 101 && !params.upgrade.empty()) {
    s.append("Connection: upgrade\r\n");
    AppendField("Upgrade", params.upgrade, &s);
  }
  s.append("\r\n");
  const size_t tail_end = s.size();
  std::bitset<kMaxHeaders> rewritten;
  if (ops && !ops->rewrite_location.empty()) {
    RewriteLocations(head, base, ops->rewrite_location, drop, &rewritten, &s);
  }
  // The scratch string is complete: pieces may point into it now.
  out->Add(s.data(), split);
  AddKeptFields(head, base, drop, rewritten, std::string_view(s).substr(tail_end), out);
  out->Add(s.data() + split, tail_end - split);
}

void BuildLocalReply(int status, std::string_view body, std::string_view location,
                     bool head_method, bool keep_alive, int client_minor, std::string* out,
                     std::string_view request_id) {
  std::string& s = *out;
  s.clear();
  s.append("HTTP/1.1 ");
  AppendNumber(static_cast<uint64_t>(status), &s);
  s.push_back(' ');
  s.append(ReasonPhrase(status));
  s.append("\r\n");
  const bool no_body = status < 200 || status == 204 || status == 304;
  if (!no_body) {
    s.append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
    AppendNumber(body.size(), &s);
    s.append("\r\n");
  }
  if (!location.empty()) {
    s.append("Location: ");
    s.append(location);
    s.append("\r\n");
  }
  if (!request_id.empty()) {
    s.append("X-Request-Id: ");
    s.append(request_id);
    s.append("\r\n");
  }
  if (!keep_alive) s.append("Connection: close\r\n");
  if (keep_alive && client_minor == 0) s.append("Connection: keep-alive\r\n");
  s.append("\r\n");
  if (!no_body && !head_method) s.append(body);
}

size_t ChunkHeader(uint64_t n, char* out) {
  auto [end, ec] = std::to_chars(out, out + 16, n, 16);
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - out);
}

}  // namespace rwproxy
