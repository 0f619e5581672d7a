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

// gtest predicate-formatter for RW_ASSERT_OK / RW_EXPECT_OK: "EXPR: STATUS" unless OK.
template <class T>
::testing::AssertionResult OkStatusFormat(const char* expr_text, const T& status_or) {
  const absl::Status& status = StatusOf(status_or);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr_text << ": " << status;
}

}  // namespace rwtest

// ASSERT_OK(expr) / EXPECT_OK(expr) for absl::Status and absl::StatusOr<T>. Like every gtest
// assertion they take a streamed message: RW_ASSERT_OK(echo) << "tunnel " << i;
#define RW_ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::rwtest::OkStatusFormat, expr)
#define RW_EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::rwtest::OkStatusFormat, expr)

#endif  // RWPROXY_TESTS_SUPPORT_WAIT_H_
