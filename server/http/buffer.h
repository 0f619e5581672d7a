// A connection's byte buffer: one contiguous block with a read and a write offset, so parsed heads
// can refer to bytes by offset (Span) and a gather-write can send them without copying. Memory
// comes from the worker's BufferPool and goes back to it as soon as the buffer is empty and the
// connection idle, so an idle connection holds no buffer.
//
// Ownership: Buffer is owned by one connection (client or upstream); BufferPool by the Worker.
// Thread-safety: the owning worker thread only.
#ifndef RWPROXY_SERVER_HTTP_BUFFER_H_
#define RWPROXY_SERVER_HTTP_BUFFER_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace rwproxy {

// Free list of fixed-size blocks, per worker. Bounded: blocks beyond kMaxFree are freed.
class BufferPool {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;
  static constexpr size_t kMaxFree = 256;
  std::unique_ptr<char[]> Take() {
    if (free_.empty()) return std::unique_ptr<char[]>(new char[kBlockSize]);
    auto block = std::move(free_.back());
    free_.pop_back();
    return block;
  }
  void Give(std::unique_ptr<char[]> block) {
    if (free_.size() < kMaxFree) free_.push_back(std::move(block));
  }

 private:
  std::vector<std::unique_ptr<char[]>> free_;
};

class Buffer {
 public:
  explicit Buffer(BufferPool* pool) : pool_(pool) {}
  ~Buffer() { Release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  const char* data() const { return data_ + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::string_view view() const { return {data(), size()}; }
  size_t capacity() const { return capacity_; }

  // Room to read into, growing or compacting so that at least `min` bytes are free (up to `max`
  // total capacity). Returns false if the buffer cannot get that room within `max`.
  bool Prepare(size_t min, size_t max) {
    if (!data_) {
      block_ = pool_->Take();
      data_ = block_.get();
      capacity_ = BufferPool::kBlockSize;
    }
    if (capacity_ - end_ >= min) return true;
    if (begin_ > 0) {  // compact
      std::memmove(data_, data_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (capacity_ - end_ >= min) return true;
    }
    size_t wanted = capacity_;
    while (wanted - end_ < min) wanted *= 2;
    if (wanted > max) return false;
    auto bigger = std::unique_ptr<char[]>(new char[wanted]);
    std::memcpy(bigger.get(), data_, end_);
    ReturnBlock();
    big_ = std::move(bigger);
    data_ = big_.get();
    capacity_ = wanted;
    return true;
  }
  char* write_ptr() { return data_ + end_; }
  size_t write_room() const { return capacity_ - end_; }
  void Commit(size_t n) { end_ += n; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Gives the memory back when nothing is buffered (an idle connection holds none).
  void ReleaseIfEmpty() {
    if (empty()) Release();
  }

 private:
  void ReturnBlock() {
    if (block_) pool_->Give(std::move(block_));
    big_.reset();
  }
  void Release() {
    ReturnBlock();
    data_ = nullptr;
    capacity_ = begin_ = end_ = 0;
  }

  BufferPool* pool_;
  std::unique_ptr<char[]> block_;  // from the pool
  std::unique_ptr<char[]> big_;    // grown beyond the pool's block size (large heads only)
  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_BUFFER_H_
