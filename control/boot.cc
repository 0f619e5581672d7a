#include "control/boot.h"

#include <utility>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/config_yaml.h"
#include "control/config_build.h"
#include "server/log/log.h"

namespace rwproxy::control {

bool ApplyYaml(ConfigStore* store, const std::string& label, const std::string& text,
               const std::string& description, const std::string& source,
               std::vector<std::string>* errors) {
  config::v1::Config config;
  yaml::SourceMap map;
  if (!ParseYamlText(label, text, &config, &map, errors)) return false;
  auto applied = store->Apply(config, {.description = description, .source = source});
  if (applied.ok()) return true;
  // Validation runs a second time only on failure, to map the store's field paths to the YAML.
  std::vector<FieldError> field_errors;
  if (absl::IsInvalidArgument(applied.status())) field_errors = store->Validate(config);
  if (field_errors.empty()) {
    errors->push_back(absl::StrCat(label, ": ", applied.status().message()));
  } else {
    *errors = LocateErrors(label, map, field_errors);
  }
  // DEADLINE_EXCEEDED: the version is live, a worker is late (the store logged it).
  return absl::IsDeadlineExceeded(applied.status());
}

BootFile ReadBootFile(const std::string& path) {
  BootFile file{path, "", {}};
  ReadConfigFile(path, &file.text, &file.read_errors);
  return file;
}

bool LoadFirstConfig(ConfigStore* store, const BootFile& config) {
  auto restored = store->Restore();
  if (!restored.ok()) {
    log::Error("state", std::string(restored.status().message()));
    return false;
  }
  for (const auto& note : restored->notes) log::Warn("state", note);
  if (restored->version != 0) {
    log::Info("state", absl::StrCat("restored config version ", restored->version, " (hash ",
                                    store->live().info.content_hash(), "; it wins over --config ",
                                    config.path, ")"));
    return true;
  }
  if (!restored->notes.empty()) {
    log::Warn("state", absl::StrCat("no saved version could be restored; applying --config ",
                                    config.path));
  }
  std::vector<std::string> errors = config.read_errors;
  if (errors.empty() && ApplyYaml(store, config.path, config.text, "--config " + config.path,
                                  kSourceBoot, &errors)) {
#ifdef __GLIBC__
    malloc_trim(0);  // the YAML document tree is gone: return its memory
#endif
    return true;
  }
  for (const auto& e : errors) log::Error("main", e);
  log::Error("main", absl::StrCat("invalid config ", config.path, " (", errors.size(), " error",
                                  errors.size() == 1 ? "" : "s", "); not starting"));
  return false;
}

std::unique_ptr<FileWatcher> WatchConfigFile(const BootFile& config, ConfigStore* store,
                                             std::atomic<uint64_t>* file_errors) {
  const std::string path = config.path;
  auto on_change = [path, store, file_errors](const std::string& text) {
    std::vector<std::string> errors;
    if (ApplyYaml(store, path, text, "file " + path, kSourceFile, &errors)) {
      store->SetConfigFileError("");
      log::Info("watch", absl::StrCat("applied ", path, ": live version ",
                                      store->live().info.version()));
      return;
    }
    ++*file_errors;
    for (const auto& e : errors) log::Warn("watch", "not applied: " + e);
    store->SetConfigFileError(absl::StrJoin(errors, "\n"));
  };
  auto watcher = std::make_unique<FileWatcher>(path, on_change);
  // The baseline is the text read before boot; the watcher checks the file once when it starts,
  // so an edit made while booting is applied.
  if (auto status = watcher->Start(config.text); !status.ok()) {
    log::Error("main", "--watch-config: " + std::string(status.message()));
    return nullptr;
  }
  return watcher;
}

}  // namespace rwproxy::control
