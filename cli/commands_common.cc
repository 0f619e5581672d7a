#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/targets.h"
#include "cli/violations.h"

namespace rwproxy::cli {

std::optional<LocalConfig> LoadLocalConfig(const std::string& path) {
  LocalConfig local;
  local.name = path == "-" ? "<stdin>" : path;
  auto text = ReadInput(path);
  if (!text.ok()) {
    Fail(std::string(text.status().message()), kExitRejected);
    return std::nullopt;
  }
  if (absl::StripAsciiWhitespace(*text).empty()) {
    Fail(local.name + ": empty input; refusing to use an empty config (write {} for one)",
         kExitRejected);
    return std::nullopt;
  }
  std::vector<yaml::YamlError> errors;
  if (!yaml::ParseConfig(*text, &local.config, &local.map, &errors)) {
    for (const auto& error : errors) std::cerr << FormatYamlError(local.name, error) << "\n";
    Fail(local.name + ": " + std::to_string(errors.size()) + " error" +
             (errors.size() == 1 ? "" : "s") + " in YAML; nothing sent",
         kExitRejected);
    return std::nullopt;
  }
  return local;
}

int Fail(const std::string& message, int exit_code) {
  std::cerr << "rwctl: " << message << "\n";
  return exit_code;
}

int PrintTargetResults(const std::vector<std::string>& servers,
                       const std::vector<TargetResult>& results) {
  std::vector<int> codes;
  for (const auto& result : results) codes.push_back(result.exit_code);
  if (results.size() == 1) {
    const TargetResult& r = results.front();
    if (r.exit_code == kExitOk || r.report_on_stdout) {
      std::cout << r.summary << "\n";
    } else {
      for (const auto& line : r.details) std::cerr << line << "\n";
      std::cerr << "rwctl: " << r.summary << "\n";
    }
  } else {
    for (size_t i = 0; i < results.size(); ++i) {
      std::cout << servers[i] << ": " << results[i].summary << "\n";
      for (const auto& line : results[i].details) std::cout << "  " << line << "\n";
    }
  }
  std::cout.flush();
  return CombineExitCodes(codes);
}

CLI::Option* AddOutputFlag(CLI::App* sub, std::string* format, std::vector<std::string> allowed) {
  *format = allowed.front();
  std::string help = "output format: " + absl::StrJoin(allowed, "|");
  return sub->add_option("-o,--output", *format, help)
      ->check(CLI::IsMember(allowed))
      ->capture_default_str();
}

}  // namespace rwproxy::cli
