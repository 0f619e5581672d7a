// Directive tables of `rwctl import apache`: the directives that do not affect proxying (and
// why), and the reasons given for whole families that are refused.
//
// Ownership: static data. Thread-safety: read-only; any thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_TABLES_H_
#define RWPROXY_CLI_IMPORT_APACHE_TABLES_H_

#include <string>

namespace rwproxy::cli::apache {

// Why `key` (a lowercase directive name) is ignored, or nullptr when it is not in the table.
const char* IgnoredReason(const std::string& key);

// Why `key` is refused when it belongs to a family rwproxy does not do (TLS, auth, CGI, error
// pages, compression, ...), or nullptr.
const char* RefusedReason(const std::string& key);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_TABLES_H_
