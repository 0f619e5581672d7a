// rwctl get routes: the live routes of a GetConfig response as a table, JSON or YAML.
//
// The table has one line per route, in match order:
//   NAME  MATCH  METHODS/HEADERS  REWRITE  ACTION  TIMEOUT  RETRY
// MATCH: "prefix /api/", "exact /x", "regex ^/api/(.*)$" or "any". METHODS/HEADERS:
// "GET,POST x-canary=1" or "-". REWRITE: "path=/v2/$1 prefix=/ host=internal" (the parts set) or
// "-". ACTION: "cluster app", "split app 90%, canary 10%" (a weighted split: each backend's
// share), "redirect 301 https://docs.example.com$0" or "respond 403", followed by the upgrades a
// route tunnels: "cluster ws (upgrades: websocket, idle 2h)". TIMEOUT: as configured, else
// "15s" (the default) for routes that forward, "-" for redirect and respond. RETRY:
// "on=5xx,reset max=2 per_try=500ms codes=502,503 non_idempotent" (the parts set; max defaults to
// 1) or "-".
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_ROUTES_TABLE_H_
#define RWPROXY_CLI_ROUTES_TABLE_H_

#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace rwproxy::cli {

std::string RoutesTable(const config::v1::Config& config);

// {"version": 7, "content_hash": "...", "routes": [route in the proto3 JSON mapping, ...]}.
std::string RoutesJson(const ::rwproxy::control::v1::GetConfigResponse& response);

// "# routes of rwproxy config version 7 (content_hash H)\nroutes:\n  - name: ..." — the routes
// part of `rwctl get -o yaml`, ready to paste into a config file.
std::string RoutesYaml(const ::rwproxy::control::v1::GetConfigResponse& response);

// The cells of one route, for tests: name, match, methods/headers, rewrite, action, timeout,
// retry.
std::vector<std::string> RouteCells(const config::v1::Route& route);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_ROUTES_TABLE_H_
