// The large per-request working state (parsed heads, gather lists, reused strings), taken from a
// per-worker free list while a request is being served and given back after, so an idle
// connection holds none of it and no coroutine frame is big enough to miss Asio's frame
// recycling (frames over about 1 KiB are allocated afresh each time).
//
// Ownership: RequestStatePool is owned by the Worker; a RequestStateLease by the serving
// coroutine, and it returns the state by itself. Thread-safety: the owning worker thread only.
#ifndef RWPROXY_SERVER_HTTP_REQUEST_STATE_H_
#define RWPROXY_SERVER_HTTP_REQUEST_STATE_H_

#include <memory>
#include <string>
#include <vector>

#include "server/http/access_record.h"
#include "server/http/codec.h"
#include "server/http/io.h"

namespace rwproxy {

struct RequestState {
  MessageHead request;
  MessageHead response;
  Gather upstream_wire;     // the request as sent upstream
  Gather sending;           // a copy of upstream_wire that a write consumes (a retry resends
                            // upstream_wire whole)
  Gather client_wire;       // a response head (and small body) as sent to the client
  std::string upstream_head;  // request line and added fields
  std::string client_head;    // status line and added fields; local replies
  std::string head_copy;    // the upstream head, when the client buffer must take a body
  std::string body_copy;    // a chunked request body, re-chunked, while it is buffered
  std::string request_id;   // this request's ID (the client's, copied, or a generated one)
  bool request_id_generated = false;  // generated: sent upstream as X-Request-Id
  AccessRecord access;      // filled only when the access log is on
};

class RequestStatePool {
 public:
  static constexpr size_t kMaxFree = 64;
  std::unique_ptr<RequestState> Take() {
    if (free_.empty()) return std::make_unique<RequestState>();
    auto state = std::move(free_.back());
    free_.pop_back();
    return state;
  }
  void Give(std::unique_ptr<RequestState> state) {
    if (free_.size() < kMaxFree) free_.push_back(std::move(state));
  }

 private:
  std::vector<std::unique_ptr<RequestState>> free_;
};

class RequestStateLease {
 public:
  explicit RequestStateLease(RequestStatePool* pool) : pool_(pool), state_(pool->Take()) {}
  ~RequestStateLease() { pool_->Give(std::move(state_)); }
  RequestStateLease(const RequestStateLease&) = delete;
  RequestStateLease& operator=(const RequestStateLease&) = delete;
  RequestState& operator*() const { return *state_; }
  RequestState* operator->() const { return state_.get(); }

 private:
  RequestStatePool* pool_;
  std::unique_ptr<RequestState> state_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_REQUEST_STATE_H_
