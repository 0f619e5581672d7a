#include "control/cert_reloader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/state_file.h"
#include "server/log/log.h"

namespace rwproxy::control {

namespace {
std::string ReadFileOrEmpty(const std::string& path) {
  return ReadWholeFile(path).value_or(std::string());
}

void LogLoaded(const char* what, const ServerTlsContexts& contexts,
               const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) log::Warn("tls", warning);
  log::Info("tls", absl::StrCat(what, ": ", absl::StrJoin(contexts.Describe(), "; ")));
}
}  // namespace

absl::StatusOr<std::unique_ptr<CertReloader>> CertReloader::Create(ServerTlsOptions options) {
  std::unique_ptr<CertReloader> reloader(new CertReloader(std::move(options)));
  for (const CertKeyFiles& files : reloader->options_.certs) {
    for (const std::string* path : {&files.cert, &files.key}) {
      reloader->initial_[*path] = ReadFileOrEmpty(*path);
    }
  }
  if (!reloader->options_.client_ca.empty()) {
    reloader->initial_[reloader->options_.client_ca] =
        ReadFileOrEmpty(reloader->options_.client_ca);
  }
  std::vector<std::string> warnings;
  auto loaded = ServerTlsContexts::Load(reloader->options_, reloader->keys_, &warnings);
  if (!loaded.ok()) return loaded.status();
  LogLoaded("certificates loaded", **loaded, warnings);
  reloader->slot_ = std::make_shared<ServerTlsSlot>(*std::move(loaded));
  for (const auto& [path, content] : reloader->initial_) {
    reloader->loaded_contents_ += content + '\0';
  }
  return reloader;
}

CertReloader::~CertReloader() { Stop(); }

absl::Status CertReloader::Watch() {
  for (const auto& [path, content] : initial_) {
    auto watcher = std::make_unique<FileWatcher>(path, [this](const std::string&) {
      (void)Reload();  // logged and counted there
    });
    if (auto status = watcher->Start(content); !status.ok()) return status;
    watchers_.push_back(std::move(watcher));
  }
  return absl::OkStatus();
}

absl::Status CertReloader::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  // One Secret update changes several files and wakes one watcher per file: the set is loaded
  // (and counted) once per distinct content.
  std::string contents;
  for (const auto& [path, initial] : initial_) contents += ReadFileOrEmpty(path) + '\0';
  if (contents == loaded_contents_) return absl::OkStatus();
  std::vector<std::string> warnings;
  auto loaded = ServerTlsContexts::Load(options_, keys_, &warnings);
  if (!loaded.ok()) {
    ++slot_->reload_failures;
    log::Error("tls", absl::StrCat("certificate reload failed, still serving the previous "
                                   "certificates: ",
                                   loaded.status().message()));
    return loaded.status();
  }
  ++slot_->reloads;
  loaded_contents_ = std::move(contents);
  LogLoaded("certificates reloaded", **loaded, warnings);
  slot_->Set(*std::move(loaded));
  return absl::OkStatus();
}

void CertReloader::Stop() {
  for (auto& watcher : watchers_) watcher->Stop();
  watchers_.clear();
}

}  // namespace rwproxy::control
