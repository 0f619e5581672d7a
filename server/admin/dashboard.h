// The admin listener's dashboard (GET /): one self-contained HTML page, inline CSS and JS, no
// external assets, that polls /stats?format=json, /clusters and /config_dump and draws requests/s,
// 5xx/s and upstream connections opened per 1,000 requests over the last 10 minutes, the route
// table and every cluster's endpoints. The page's source is server/admin/dashboard.html; CMake
// embeds it into the binary at configure time (server/CMakeLists.txt), so editing it re-runs
// CMake on the next build.
//
// Thread-safety: the page is an immutable static string; any thread.
#ifndef RWPROXY_SERVER_ADMIN_DASHBOARD_H_
#define RWPROXY_SERVER_ADMIN_DASHBOARD_H_

#include <string_view>

namespace rwproxy {

// The page, served as `text/html; charset=utf-8`.
std::string_view DashboardHtml();

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_ADMIN_DASHBOARD_H_
