#include "server/http/wire.h"

#include <charconv>

namespace rwproxy {
namespace {

void AppendNumber(uint64_t n, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out->append(digits, end);
}

// Adds the runs of kept field lines (consecutive lines are contiguous in the buffer).
void AddKeptFields(const MessageHead& head, const char* base,
                   const std::bitset<kMaxHeaders>& drop, Gather* out) {
  int i = 0;
  while (i < head.header_count) {
    if (drop.test(i)) {
      ++i;
      continue;
    }
    uint32_t begin = head.headers[i].line.off;
    uint32_t end = head.headers[i].line.end();
    while (++i < head.header_count && !drop.test(i) && head.headers[i].line.off == end) {
      end = head.headers[i].line.end();
    }
    out->Add(base + begin, end - begin);
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

void BuildUpstreamHead(const MessageHead& head, const char* base, const RequestFraming& framing,
                       const UpstreamHead& params, std::string* scratch, Gather* out) {
  std::string& s = *scratch;
  s.clear();
  s.append(framing.method);
  s.push_back(' ');
  s.append(params.target);
  s.append(" HTTP/1.1\r\n");
  const size_t split = s.size();
  s.append("Host: ");
  s.append(params.host);
  s.append("\r\nX-Forwarded-For: ");
  for (int i = 0; i < head.header_count; ++i) {
    if (EqualsIgnoreCase(head.headers[i].name.In(base), "x-forwarded-for")) {
      std::string_view value = head.headers[i].value.In(base);
      if (value.empty()) continue;
      s.append(value);
      s.append(", ");
    }
  }
  s.append(params.client_address);
  s.append("\r\nX-Forwarded-Proto: http\r\n");
  if (!params.request_id.empty()) {
    s.append("X-Request-Id: ");
    s.append(params.request_id);
    s.append("\r\n");
  }
  AppendFraming(params.body, params.length, &s);
  s.append("\r\n");
  out->Add(s.data(), split);
  AddKeptFields(head, base, framing.drop, out);
  out->Add(s.data() + split, s.size() - split);
}

void BuildClientHead(const MessageHead& head, const char* base, const ResponseFraming& framing,
                     const ClientHead& params, std::string* scratch, Gather* out) {
  std::string& s = *scratch;
  s.clear();
  s.append("HTTP/1.1");
  s.append(head.start_line.In(base).substr(8));  // " NNN reason"
  s.append("\r\n");
  const size_t split = s.size();
  if (head.status >= 200) {
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
  }
  s.append("\r\n");
  out->Add(s.data(), split);
  AddKeptFields(head, base, framing.drop, out);
  out->Add(s.data() + split, s.size() - split);
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
