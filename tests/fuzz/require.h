// Require(cond): the fuzz targets' invariant check. Aborts (a crash for libFuzzer, a failure for
// the corpus replay) naming the invariant that does not hold.
#ifndef RWPROXY_TESTS_FUZZ_REQUIRE_H_
#define RWPROXY_TESTS_FUZZ_REQUIRE_H_

#include <cstdio>
#include <cstdlib>

#define Require(cond)                                                                   \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#endif  // RWPROXY_TESTS_FUZZ_REQUIRE_H_
