// config.proto -> config/spec.h: validates a Config and converts it to the plain C++
// ConfigSpec the data plane consumes (durations parsed, defaults applied, endpoints split into
// host and port, header names lowercased). Regexes are not compiled here; the router does that
// when it builds a snapshot.
//
// Ownership: a free function over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_TRANSLATE_H_
#define RWPROXY_CONFIG_TRANSLATE_H_

#include <vector>

#include "proto/config.pb.h"
#include "config/spec.h"

namespace rwproxy::config {

// Translates `config`, appending every problem found (not only the first) to *errors as
// {field path, message}, e.g. {"routes[1].redirect.status", "status must be 301, ... (got 200)"}.
// Field paths use the syntax of config/config_yaml.h, so they can be located in routes.yaml.
// The returned spec is complete only when no error was appended; otherwise it is best effort and
// must not be served.
//
// Conversions worth knowing: an IPv6 endpoint "[::1]:80" gives host "::1"; header names are
// lowercased and sorted; redirect status 0 means 302 and respond status 0 means 200; empty
// durations and unset numbers take the defaults of spec.h; `cluster: app` becomes a ClusterAction
// with one backend of weight 1, `backends:` a weighted one; health_check and outlier_detection
// are on when present, and so is tls (`tls: {}` is TLS with the defaults); upgrade protocols are
// lowercased. The resilience rules are listed in config/translate_resilience.h, those of tls and
// upgrades in config/translate_transport.h.
ConfigSpec Translate(const config::v1::Config& config, std::vector<FieldError>* errors);

}  // namespace rwproxy::config

#endif  // RWPROXY_CONFIG_TRANSLATE_H_
