// The case table of tests/integration/apache_import_test.cc: small Apache configs (after the
// generated prelude of tests/support/apache_server.h), the requests sent through Apache and then
// through rwproxy running `rwctl import apache` of the same file, and a few facts about Apache's
// answers that hold whatever rwproxy does.
//
// Ownership: plain values built on each call. Thread-safety: any thread.
#ifndef RWPROXY_TESTS_INTEGRATION_APACHE_CASES_H_
#define RWPROXY_TESTS_INTEGRATION_APACHE_CASES_H_

#include <vector>

#include "tests/integration/apache_cases_compare.h"

namespace rwtest {

// The seed: what rwproxy exists to replace (mod_rewrite [P] opens one upstream connection per
// request).
inline constexpr char kSeedConfig[] = R"(RewriteEngine On
RewriteRule ^(.*)$ http://@UPSTREAM@$1 [P,L]
ProxyPreserveHost On
)";

// Apache with a ProxyPass worker, which pools its upstream connections.
inline constexpr char kProxyPassConfig[] = R"(ProxyPass / http://@UPSTREAM@/
)";

std::vector<ImportCase> ApacheImportCases();

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_APACHE_CASES_H_
