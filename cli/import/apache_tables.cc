#include "cli/import/apache_tables.h"

#include <string_view>

#include "absl/strings/match.h"

namespace rwproxy::cli::apache {
namespace {

struct Entry {
  const char* key;
  const char* reason;
};

constexpr char kProcess[] = "process management: rwproxy has its own";
constexpr char kLogging[] = "logging: rwproxy keeps its own access log";
constexpr char kFiles[] = "file serving: rwproxy serves no files";
constexpr char kTuning[] = "process and worker tuning";
constexpr char kClient[] = "client connection handling is rwproxy's own";

constexpr Entry kIgnored[] = {
    {"serverroot", "used to find Include files; nothing to serve"},
    {"listen", "rwproxy listens on its --listen address"},
    {"loadmodule", "modules are taken as loaded"},
    {"loadfile", "modules are taken as loaded"},
    {"user", kProcess},
    {"group", kProcess},
    {"pidfile", kProcess},
    {"mutex", kProcess},
    {"defaultruntimedir", kProcess},
    {"scoreboardfile", kProcess},
    {"coredumpdirectory", kProcess},
    {"gracefulshutdowntimeout", kProcess},
    {"errorlog", kLogging},
    {"errorlogformat", kLogging},
    {"loglevel", kLogging},
    {"customlog", kLogging},
    {"transferlog", kLogging},
    {"logformat", kLogging},
    {"globallog", kLogging},
    {"bufferedlogs", kLogging},
    {"rewritelog", kLogging},
    {"rewriteloglevel", kLogging},
    {"documentroot", "rwproxy serves no files: requests no route takes get 404"},
    {"directoryindex", kFiles},
    {"directoryslash", kFiles},
    {"options", kFiles},
    {"allowoverride", kFiles},
    {"allowoverridelist", kFiles},
    {"accessfilename", kFiles},
    {"indexoptions", kFiles},
    {"indexignore", kFiles},
    {"indexorderdefault", kFiles},
    {"addicon", kFiles},
    {"addiconbytype", kFiles},
    {"addiconbyencoding", kFiles},
    {"adddescription", kFiles},
    {"addalt", kFiles},
    {"addaltbytype", kFiles},
    {"addaltbyencoding", kFiles},
    {"defaulticon", kFiles},
    {"readmename", kFiles},
    {"headername", kFiles},
    {"addtype", kFiles},
    {"addencoding", kFiles},
    {"addcharset", kFiles},
    {"addlanguage", kFiles},
    {"addhandler", kFiles},
    {"removehandler", kFiles},
    {"removetype", kFiles},
    {"typesconfig", kFiles},
    {"mimemagicfile", kFiles},
    {"forcetype", kFiles},
    {"defaultlanguage", kFiles},
    {"languagepriority", kFiles},
    {"forcelanguagepriority", kFiles},
    {"adddefaultcharset", kFiles},
    {"enablesendfile", kFiles},
    {"enablemmap", kFiles},
    {"fileetag", kFiles},
    {"keepalive", kClient},
    {"keepalivetimeout", kClient},
    {"maxkeepaliverequests", kClient},
    {"requestreadtimeout", kClient},
    {"limitrequestbody", "rwproxy applies its own request limits"},
    {"limitrequestfields", "rwproxy applies its own request limits"},
    {"limitrequestfieldsize", "rwproxy applies its own request limits"},
    {"limitrequestline", "rwproxy applies its own request limits"},
    {"protocols", "rwproxy speaks HTTP/1.1"},
    {"protocolshonororder", "rwproxy speaks HTTP/1.1"},
    {"httpprotocoloptions", "rwproxy's framing rules are its own (and strict)"},
    {"traceenable", "rwproxy forwards TRACE like any method"},
    {"servertokens", "Apache's own Server header"},
    {"serversignature", "Apache's own error pages"},
    {"serveradmin", "Apache's own error pages"},
    {"hostnamelookups", kLogging},
    {"extendedstatus", "mod_status; rwproxy has /stats on its admin port"},
    {"usecanonicalname", "redirect targets use the request's Host, as with the default Off"},
    {"usecanonicalphysicalport", "redirect targets use the request's Host"},
    {"startservers", kTuning},
    {"minspareservers", kTuning},
    {"maxspareservers", kTuning},
    {"serverlimit", kTuning},
    {"maxrequestworkers", kTuning},
    {"maxclients", kTuning},
    {"maxconnectionsperchild", kTuning},
    {"maxrequestsperchild", kTuning},
    {"threadsperchild", kTuning},
    {"threadlimit", kTuning},
    {"minsparethreads", kTuning},
    {"maxsparethreads", kTuning},
    {"threadstacksize", kTuning},
    {"asyncrequestworkerfactor", kTuning},
    {"listenbacklog", kTuning},
    {"listencoresbucketsratio", kTuning},
    {"sendbuffersize", kTuning},
    {"receivebuffersize", kTuning},
    {"maxmemfree", kTuning},
    {"maxranges", kTuning},
    {"proxyiobuffersize", kTuning},
    {"proxyreceivebuffersize", kTuning},
    {"proxymaxforwards", "only for forward proxy requests"},
    {"proxybadheader", "rwproxy rejects malformed upstream heads (502)"},
    {"proxystatus", "mod_status; rwproxy has /stats on its admin port"},
    {"setenvif", "environment variables only feed directives the import refuses"},
    {"setenvifnocase", "environment variables only feed directives the import refuses"},
    {"browsermatch", "environment variables only feed directives the import refuses"},
    {"browsermatchnocase", "environment variables only feed directives the import refuses"},
    {"setenv", "environment variables only feed directives the import refuses"},
    {"unsetenv", "environment variables only feed directives the import refuses"},
    {"passenv", "environment variables only feed directives the import refuses"},
    {"define", "expanded while reading the config"},
    {"undefine", "expanded while reading the config"},
};

constexpr Entry kRefusedFamilies[] = {
    {"errordocument", "custom error pages are not converted"},
    {"scriptalias", "CGI is not converted"},
    {"scriptaliasmatch", "CGI is not converted"},
    {"addoutputfilterbytype", "response filters (compression, ...) are not converted"},
    {"addoutputfilter", "response filters (compression, ...) are not converted"},
    {"setoutputfilter", "response filters (compression, ...) are not converted"},
    {"setinputfilter", "request filters are not converted"},
    {"expiresactive", "mod_expires is not converted"},
    {"expiresbytype", "mod_expires is not converted"},
    {"expiresdefault", "mod_expires is not converted"},
    {"sethandler", "handlers (server-status, balancer-manager, ...) are not converted"},
    {"order", "2.2-style access control (mod_access_compat) is not converted"},
    {"allow", "2.2-style access control (mod_access_compat) is not converted"},
    {"deny", "2.2-style access control (mod_access_compat) is not converted"},
    {"satisfy", "2.2-style access control (mod_access_compat) is not converted"},
    {"proxypassreversecookiedomain", "cookie rewriting is not converted"},
    {"proxypassreversecookiepath", "cookie rewriting is not converted"},
    {"proxyhtmlurlmap", "HTML rewriting is not converted"},
    {"proxypassinterpolateenv", "environment interpolation is not converted"},
    {"proxyremote", "forward proxy chains are not converted"},
    {"proxyremotematch", "forward proxy chains are not converted"},
    {"proxyblock", "forward proxy blocking is not converted"},
    {"proxyhcexpr", "expression health checks are not converted"},
    {"proxyhctemplate", "health check templates are not converted"},
    {"rewritemap", "RewriteMap lookups are not converted"},
    {"rewritebase", "RewriteBase only applies to per-directory rewriting, which is not converted"},
    {"rewriteoptions", "RewriteOptions (inheritance and other options) is not converted"},
    {"userdir", "user directories (files) are not converted"},
};

const char* Find(const Entry* table, size_t size, const std::string& key) {
  for (size_t i = 0; i < size; ++i) {
    if (key == table[i].key) return table[i].reason;
  }
  return nullptr;
}

}  // namespace

const char* IgnoredReason(const std::string& key) {
  return Find(kIgnored, sizeof kIgnored / sizeof kIgnored[0], key);
}

const char* RefusedReason(const std::string& key) {
  if (absl::StartsWith(key, "ssl")) return "TLS directives are not converted yet (#13)";
  if (absl::StartsWith(key, "auth") || absl::StartsWith(key, "ldap")) {
    return "authentication and authorization are not converted";
  }
  if (absl::StartsWith(key, "deflate") || absl::StartsWith(key, "brotli")) {
    return "response compression is not converted";
  }
  if (absl::StartsWith(key, "cache")) return "caching is not converted";
  if (absl::StartsWith(key, "session")) return "sessions are not converted";
  return Find(kRefusedFamilies, sizeof kRefusedFamilies / sizeof kRefusedFamilies[0], key);
}

}  // namespace rwproxy::cli::apache
