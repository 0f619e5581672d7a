// Waiting on conditions with a deadline, for tests. Tests never sleep for correctness: they wait
// for the state they need and fail with a description when it does not come in time.
//
// Ownership: free functions, no state. Thread-safety: any thread; the predicate runs on the
// calling thread.
#ifndef RWPROXY_TESTS_SUPPORT_WAIT_H_
#define RWPROXY_TESTS_SUPPORT_WAIT_H_

#include <chrono>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace rwtest {

// Polls `predicate` (every few milliseconds, backing off to 50 ms) until it returns true or
// `timeout` passes. The failure message names `description` and the time waited.
::testing::AssertionResult WaitFor(const std::function<bool()>& predicate,
                                   std::chrono::milliseconds timeout, std::string_view description);

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <class T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace rwtest

// ASSERT_OK(expr) / EXPECT_OK(expr) for absl::Status and absl::StatusOr<T>.
#define RW_ASSERT_OK(expr)                                       \
  do {                                                           \
    const absl::Status rw_status_ = ::rwtest::StatusOf(expr);    \
    ASSERT_TRUE(rw_status_.ok()) << #expr << ": " << rw_status_; \
  } while (0)
#define RW_EXPECT_OK(expr)                                       \
  do {                                                           \
    const absl::Status rw_status_ = ::rwtest::StatusOf(expr);    \
    EXPECT_TRUE(rw_status_.ok()) << #expr << ": " << rw_status_; \
  } while (0)

#endif  // RWPROXY_TESTS_SUPPORT_WAIT_H_
