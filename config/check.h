// Every check of a config that needs no name resolution: translation (types, ranges, names,
// references; config/translate.h) and route compilation (regex syntax, size and groups, template
// group references, cluster references; config/compiled_route.h). `rwctl validate --offline`
// runs Check; the server runs the same two steps and then resolves endpoints
// (control/config_build.h).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_CHECK_H_
#define RWPROXY_CONFIG_CHECK_H_

#include <cstddef>
#include <vector>

#include "config/spec.h"
#include "proto/config.pb.h"

namespace rwproxy::config {

// Translates `config` and compiles every route, appending every problem to *errors. The spec is
// servable only when no error was appended.
ConfigSpec Check(const v1::Config& config, std::vector<FieldError>* errors);

// Compiles every route of `spec` (built by Translate) and appends the problems found, except at
// fields already reported in (*errors)[reported_from..]: after a translation error the route
// checks still run, so every problem is reported at once, without saying one thing twice.
void CheckRoutes(const ConfigSpec& spec, std::vector<FieldError>* errors, size_t reported_from);

}  // namespace rwproxy::config

#endif  // RWPROXY_CONFIG_CHECK_H_
