// rwctl import apache: an Apache httpd config -> an rwproxy config (stdout) and a report of what
// became of every directive (stderr, or --report FILE). Talks to no server.
//
// Exit codes: 0 converted (approximations and refusals are in the report); 1 --strict and a
// directive was approximated or refused (no config printed); 2 usage error, an unreadable or
// unparsable config, or nothing to convert (no route); 4 the converted config fails rwproxy's own
// checks (a bug in the importer: the violations are printed).
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/import/apache_import.h"
#include "cli/output.h"
#include "config/check.h"
#include "config/config_yaml.h"

namespace rwproxy::cli {
namespace {

struct ImportFlags {
  std::string file;
  std::string output;
  bool strict = false;
  std::string report;
  std::string server_root;
  int port = 0;
};

constexpr char kImportExitCodes[] =
    "Exit codes:\n"
    "  0  converted (what was approximated or refused is in the report)\n"
    "  1  --strict: a directive was approximated or refused (no config is printed)\n"
    "  2  usage error, unreadable or unparsable config (FILE:LINE), or nothing to convert\n"
    "  4  the converted config fails rwproxy's checks: a bug in the importer (please report)\n"
    "The report has one line per directive, FILE:LINE: VERDICT: DIRECTIVE [-> routes] (why),\n"
    "with VERDICT converted, approximated, refused or ignored, then a summary line.";

int RunImportApache(const ImportFlags& flags) {
  apache::ImportOptions options;
  options.server_root = flags.server_root;
  options.port = flags.port;
  auto result = apache::ImportApache(flags.file, options);
  if (!result.ok())
    return Fail(absl::StrCat("import apache: ", result.status().message()), kExitUsage);
  const apache::Report& report = result->report;
  if (flags.report.empty()) {
    std::cerr << report.Format();
  } else {
    std::ofstream out(flags.report, std::ios::trunc);
    out << report.Format();
    if (!out.flush())
      return Fail(absl::StrCat("import apache: cannot write ", flags.report), kExitUsage);
    std::cerr << "rwctl: import apache: " << report.Summary() << " (report in " << flags.report
              << ")\n";
  }
  const config::v1::Config& config = result->config;
  if (config.routes_size() == 0) {
    return Fail("import apache: nothing to convert: no directive became a route", kExitUsage);
  }
  std::vector<FieldError> errors;
  config::Check(config, &errors);
  if (!errors.empty()) {
    for (const FieldError& e : errors)
      std::cerr << "rwctl: import apache: " << e.field << ": " << e.message << "\n";
    std::cerr << yaml::ToYaml(config);
    return Fail("import apache: internal error: the converted config fails rwproxy's checks",
                kExitError);
  }
  if (flags.strict && report.Inexact()) {
    return Fail(
        absl::StrCat("import apache --strict: ", report.Count(apache::VerdictKind::kApproximated),
                     " approximated, ", report.Count(apache::VerdictKind::kRefused), " refused"),
        kExitRejected);
  }
  if (flags.output == "json") {
    std::cout << ToJson(config) << "\n";
  } else {
    std::cout << "# rwctl import apache " << flags.file << ": " << report.Summary() << "\n"
              << yaml::ToYaml(config);
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace

void AddImportCommands(CLI::App* app, std::vector<Command>* out) {
  CLI::App* import = app->add_subcommand(
      "import", "convert another server's config into an rwproxy config (apache)");
  import->require_subcommand(1);
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* apache = import->add_subcommand(
      "apache",
      "convert an Apache httpd config (mod_rewrite, mod_proxy, mod_alias, mod_headers, virtual "
      "hosts) into an rwproxy config on stdout, with a report of every directive on stderr; "
      "`rwctl import apache httpd.conf | rwctl apply -`");
  apache->add_option("FILE", flags->file, "the main config file, e.g. httpd.conf")->required();
  AddOutputFlag(apache, &flags->output, {"yaml", "json"});
  apache->add_flag("--strict", flags->strict,
                   "exit 1 (and print no config) when a directive is approximated or refused");
  apache->add_option("--report", flags->report, "write the report to FILE instead of stderr");
  apache->add_option("--server-root", flags->server_root,
                     "where relative Include paths start (default: ServerRoot, else FILE's "
                     "directory)");
  apache
      ->add_option("--port", flags->port,
                   "convert the <VirtualHost> sections of this port (default: the first's)")
      ->check(CLI::Range(1, 65535));
  apache->footer(kImportExitCodes);
  out->push_back({apache, true, [flags](const Globals&) { return RunImportApache(*flags); }});
}

}  // namespace rwproxy::cli
