// The Watch streams of the control service: each stream first gets the live version, then every
// new one (ConfigStore notifications), in order and without duplicates; and a guarded version's
// verdict (KEPT, REVERTED, SUPERSEDED) as one more event for that version when it is decided. A stream ends when the
// client cancels it, when it falls too far behind (RESOURCE_EXHAUSTED), or at Shutdown(), so an
// open Watch never holds up server shutdown. At most `max_streams` are open at once: a Watch
// beyond that ends at once with RESOURCE_EXHAUSTED naming the limit.
//
// Ownership: owned by the ControlService. Each stream (a gRPC reactor) is shared by the hub and by
// itself until gRPC is done with it (OnDone), so a notification never touches a deleted stream. The
// hub must outlive every stream: destroy it only after grpc::Server's Shutdown() returned.
// Thread-safety: Start, Shutdown and the store's notifications may come from any thread.
#ifndef RWPROXY_CONTROL_WATCH_HUB_H_
#define RWPROXY_CONTROL_WATCH_HUB_H_

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "control/config_store.h"
#include "grpcpp/grpcpp.h"
#include "proto/control.pb.h"

namespace rwproxy::control {

class WatchHub {
 public:
  // Versions queued for one slow stream before it is ended.
  static constexpr size_t kMaxQueued = 256;

  // `max_streams` 0 means no bound.
  WatchHub(ConfigStore* store, size_t max_streams);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // A new stream for a Watch call; it is already authorized.
  grpc::ServerWriteReactor<v1::VersionEvent>* Start(grpc::CallbackServerContext* context);

  // Streams open now (a refused Watch is not counted).
  size_t open_streams();

  // Ends every open stream with OK and refuses new ones (UNAVAILABLE).
  void Shutdown();

 private:
  class Stream;
  void Publish(const v1::VersionInfo& info);
  void Remove(Stream* stream);
  // The open streams; with `shut_down`, also refuses new ones from now on.
  std::vector<std::shared_ptr<Stream>> OpenStreams(bool shut_down);

  ConfigStore* const store_;
  const size_t max_streams_;
  int subscription_ = 0;
  std::mutex mu_;  // guards the fields below; never held while calling into a stream
  bool shut_down_ = false;
  std::map<Stream*, std::shared_ptr<Stream>> streams_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_WATCH_HUB_H_
