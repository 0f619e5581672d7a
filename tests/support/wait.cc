#include "tests/support/wait.h"

#include <algorithm>
#include <string>
#include <thread>

namespace rwtest {

::testing::AssertionResult WaitFor(const std::function<bool()>& predicate,
                                   std::chrono::milliseconds timeout,
                                   std::string_view description) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  auto pause = std::chrono::milliseconds(2);
  while (true) {
    if (predicate()) return ::testing::AssertionSuccess();
    const auto now = Clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  return ::testing::AssertionFailure()
         << "timed out after " << waited << " ms waiting for: " << std::string(description);
}

}  // namespace rwtest
