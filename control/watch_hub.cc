#include "control/watch_hub.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace rwproxy::control {

// One Watch call. gRPC calls OnWriteDone/OnCancel/OnDone on its threads; the hub calls Push/End
// from the applying thread. The mutex guards the state; StartWrite and Finish are called outside
// it (a reaction may run inline), and nothing is touched after Finish.
class WatchHub::Stream : public grpc::ServerWriteReactor<v1::VersionEvent> {
 public:
  explicit Stream(WatchHub* hub) : hub_(hub) {}
  void set_self(std::shared_ptr<Stream> self) { self_ = std::move(self); }

  void Push(const v1::VersionInfo& info) {
    std::unique_lock<std::mutex> lock(mu_);
    // A guard's verdict comes as a second event for its version (possibly after newer ones).
    const bool verdict = info.guard().outcome() != v1::GuardVerdict::NONE &&
                         info.guard().outcome() != v1::GuardVerdict::PENDING;
    if (finish_.has_value() || (info.version() <= last_version_ && !verdict)) return;
    last_version_ = std::max(last_version_, info.version());
    if (queue_.size() >= kMaxQueued) {
      queue_.clear();
      finish_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             "watcher fell too far behind; watch again");
    } else {
      *queue_.emplace_back().mutable_version() = info;
    }
    Advance(std::move(lock));
  }

  void End(grpc::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!finish_.has_value()) finish_ = std::move(status);
    queue_.clear();
    Advance(std::move(lock));
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      queue_.clear();
      if (!finish_.has_value()) finish_ = grpc::Status::CANCELLED;
    }
    Advance(std::move(lock));
  }

  void OnCancel() override { End(grpc::Status::CANCELLED); }

  void OnDone() override {
    hub_->Remove(this);
    self_.reset();  // may delete this
  }

 private:
  // Starts the next write, or finishes once nothing is in flight. Releases `lock`.
  void Advance(std::unique_lock<std::mutex> lock) {
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      in_flight_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      lock.unlock();
      StartWrite(&in_flight_);
      return;
    }
    if (finish_.has_value()) {
      finished_ = true;
      grpc::Status status = *finish_;
      lock.unlock();
      Finish(status);
    }
  }

  WatchHub* const hub_;
  std::shared_ptr<Stream> self_;  // keeps the reactor alive until OnDone
  std::mutex mu_;
  std::deque<v1::VersionEvent> queue_;
  v1::VersionEvent in_flight_;  // the message of the current write; stable until OnWriteDone
  bool writing_ = false;
  bool finished_ = false;               // Finish() was called
  std::optional<grpc::Status> finish_;  // the status to finish with, once writes are done
  uint64_t last_version_ = 0;
};

WatchHub::WatchHub(ConfigStore* store, size_t max_streams)
    : store_(store), max_streams_(max_streams) {
  subscription_ = store_->Subscribe([this](const v1::VersionInfo& info) { Publish(info); });
}

WatchHub::~WatchHub() { store_->Unsubscribe(subscription_); }

grpc::ServerWriteReactor<v1::VersionEvent>* WatchHub::Start(grpc::CallbackServerContext*) {
  auto stream = std::make_shared<Stream>(this);
  stream->set_self(stream);
  std::optional<grpc::Status> refused;
  v1::VersionInfo current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) {
      refused = grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down");
    } else if (max_streams_ > 0 && streams_.size() >= max_streams_) {
      refused = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             absl::StrCat("too many concurrent Watch streams (limit ", max_streams_,
                                          ": --control-max-watch-streams)"));
    } else {
      streams_.emplace(stream.get(), stream);
      // Read after registering: a version published meanwhile reaches the stream either way, and
      // Push drops a version that is not newer than the last one sent.
      current = store_->live().info;
    }
  }
  if (refused.has_value()) {
    stream->End(*std::move(refused));
  } else if (current.version() != 0) {
    stream->Push(current);
  }
  return stream.get();
}

size_t WatchHub::open_streams() {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

void WatchHub::Shutdown() {
  for (const auto& stream : OpenStreams(/*shut_down=*/true)) stream->End(grpc::Status::OK);
}

void WatchHub::Publish(const v1::VersionInfo& info) {
  for (const auto& stream : OpenStreams(/*shut_down=*/false)) stream->Push(info);
}

std::vector<std::shared_ptr<WatchHub::Stream>> WatchHub::OpenStreams(bool shut_down) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down) shut_down_ = true;
  std::vector<std::shared_ptr<Stream>> out;
  out.reserve(streams_.size());
  for (const auto& [ptr, stream] : streams_) out.push_back(stream);
  return out;
}

void WatchHub::Remove(Stream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
}

}  // namespace rwproxy::control
