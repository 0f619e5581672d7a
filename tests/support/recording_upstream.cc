#include "tests/support/recording_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <string_view>

namespace rwtest {
namespace {


bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

enum class Frame { kIncomplete, kComplete, kError };

// Frames one request at the front of `data`: its length in *size, or the error in *error.
Frame FrameRequest(std::string_view data, size_t* size, std::string* error) {
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.find('\n') != std::string_view::npos && data.find("\r\n") == std::string_view::npos) {
      *error = "bare LF";
      return Frame::kError;
    }
    return Frame::kIncomplete;
  }
  std::string_view head = data.substr(0, end + 4);
  for (size_t i = 0; i < head.size(); ++i) {
    if ((head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) ||
        (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) || head[i] == '\0') {
      *error = "bare CR/LF or NUL in head";
      return Frame::kError;
    }
  }
  if (head.substr(0, head.find("\r\n")).find(" HTTP/1.1") == std::string_view::npos) {
    *error = "request line is not HTTP/1.1";
    return Frame::kError;
  }
  int64_t length = -1;
  bool chunked = false;
  size_t line = head.find("\r\n") + 2;
  while (line < end + 2) {
    size_t next = head.find("\r\n", line);
    std::string_view field = head.substr(line, next - line);
    size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0 || field[colon - 1] == ' ') {
      *error = "malformed field line";
      return Frame::kError;
    }
    std::string_view name = field.substr(0, colon);
    std::string_view value = field.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (IEquals(name, "content-length")) {
      if (length >= 0 || value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
        *error = "bad or repeated Content-Length";
        return Frame::kError;
      }
      length = std::stoll(std::string(value));
    } else if (IEquals(name, "transfer-encoding")) {
      if (value != "chunked" || chunked) {
        *error = "Transfer-Encoding is not exactly one 'chunked'";
        return Frame::kError;
      }
      chunked = true;
    }
    line = next + 2;
  }
  if (chunked && length >= 0) {
    *error = "both Transfer-Encoding and Content-Length";
    return Frame::kError;
  }
  size_t at = head.size();
  if (length > 0) {
    if (data.size() < at + static_cast<size_t>(length)) return Frame::kIncomplete;
    *size = at + static_cast<size_t>(length);
    return Frame::kComplete;
  }
  if (!chunked) {
    *size = at;
    return Frame::kComplete;
  }
  for (;;) {  // canonical chunks only: lower-case hex size, CRLF, data, CRLF; "0\r\n\r\n" ends
    size_t eol = data.find("\r\n", at);
    if (eol == std::string_view::npos) return Frame::kIncomplete;
    std::string_view digits = data.substr(at, eol - at);
    if (digits.empty() || digits.size() > 15 ||
        digits.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
      *error = "non-canonical chunk size line '" + std::string(digits) + "'";
      return Frame::kError;
    }
    size_t n = std::stoull(std::string(digits), nullptr, 16);
    at = eol + 2;
    if (data.size() < at + n + 2) return Frame::kIncomplete;
    if (data.substr(at + n, 2) != "\r\n") {
      *error = "chunk data not followed by CRLF";
      return Frame::kError;
    }
    at += n + 2;
    if (n == 0) {
      if (data.substr(at - 2, 2) != "\r\n") return Frame::kError;
      *size = at;
      return Frame::kComplete;
    }
  }
}

}  // namespace

RecordingUpstream::~RecordingUpstream() {
  stopping_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) {
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

absl::Status RecordingUpstream::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return absl::InternalError("recording upstream: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void RecordingUpstream::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    int index = connections_++;
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, index] { Serve(fd, index); });
  }
}

void RecordingUpstream::Serve(int fd, int index) {
  std::string pending;
  char chunk[16384];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    pending.append(chunk, static_cast<size_t>(n));
    for (;;) {
      size_t size = 0;
      std::string error;
      Frame frame = FrameRequest(pending, &size, &error);
      if (frame == Frame::kIncomplete) break;
      std::unique_lock<std::mutex> lock(mu_);
      if (frame == Frame::kError) {
        errors_.push_back("connection " + std::to_string(index) + ": " + error + " in: " + pending);
        pending.clear();
        ::shutdown(fd, SHUT_RDWR);
        break;
      }
      std::string request = pending.substr(0, size);
      requests_.push_back({index, request});
      pending.erase(0, size);
      std::string reply = reply_;
      std::function<std::string(const std::string&)> reply_fn = reply_fn_;
      lock.unlock();
      if (reply_fn) reply = reply_fn(request);
      (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }
  if (!pending.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back("connection " + std::to_string(index) + ": leftover bytes at close: " + pending);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : fds_) {
    if (f == fd) f = -1;
  }
  ::close(fd);
}

std::vector<RecordingUpstream::Request> RecordingUpstream::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<std::string> RecordingUpstream::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

}  // namespace rwtest
