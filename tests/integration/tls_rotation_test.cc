// Certificate rotation under load (issue #13): the TLS listener's files sit in a directory laid
// out like a Kubernetes Secret mount (tls.crt -> ..data/tls.crt, ..data -> ..<version>), and a
// rotation swaps the `..data` symlink atomically, as the kubelet does. New connections get the
// new certificate, no client request fails, and a bad new certificate keeps the old one.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/tls_fixture.h"

namespace rwtest {
namespace {

namespace fs = std::filesystem;

class TlsRotationTest : public TlsTest {
 protected:
  // Publishes `cert` and `key` (contents) as version `version` of the mount, kubelet style.
  void Publish(const std::string& version, const std::string& cert, const std::string& key) {
    const fs::path dir = Mount();
    const fs::path data = dir / ("..v" + version);
    fs::create_directories(data);
    WriteFile(data / "tls.crt", cert);
    WriteFile(data / "tls.key", key);
    fs::permissions(data / "tls.key", fs::perms::owner_read | fs::perms::owner_write);
    const fs::path next = dir / "..data_tmp";
    fs::remove(next);
    fs::create_directory_symlink(data.filename(), next);
    fs::rename(next, dir / "..data");  // atomic: readers see the old set or the new one
    for (const char* name : {"tls.crt", "tls.key"}) {
      if (!fs::is_symlink(dir / name)) fs::create_symlink(fs::path("..data") / name, dir / name);
    }
  }
  fs::path Mount() const { return fs::path(env_.dir()) / "secret"; }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  static void WriteFile(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
};

TEST_F(TlsRotationTest, RotationUnderLoadFailsNoRequestAndABadCertificateKeepsTheOld) {
  auto first = pki().IssueServer("first", {"a.test"});
  auto second = pki().IssueServer("second", {"a.test", "rotated.test"});
  RW_ASSERT_OK(first);
  RW_ASSERT_OK(second);
  fs::create_directories(Mount());
  Publish("1", ReadFile(first->cert), ReadFile(first->key));
  RW_ASSERT_OK(StartApp({}, {"--tls-listen", "127.0.0.1:0", "--tls-cert",
                             (Mount() / "tls.crt").string(), "--tls-key",
                             (Mount() / "tls.key").string()}));

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  std::atomic<int> rotated{0};   // connections that were served the second certificate
  std::atomic<int> after_bad{0};  // ... after the bad one was published
  std::atomic<bool> bad_published{false};
  std::mutex mu;
  std::vector<std::string> errors;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop.load() && i < 100000; ++i) {
        auto conn = TlsConnection::Connect(env_.tls_port(), Client("a.test"));
        absl::StatusOr<HttpResponse> res =
            conn.ok() ? (*conn)->Send("GET", absl::StrCat("/api/c", c, "/", i)) : conn.status();
        if (!res.ok() || res->status != 200) {
          std::lock_guard<std::mutex> lock(mu);
          errors.push_back(res.ok() ? absl::StrCat("status ", res->status) : res.status().ToString());
          continue;
        }
        ++requests;
        const auto& sans = (*conn)->peer_sans();
        if (std::find(sans.begin(), sans.end(), "rotated.test") != sans.end()) {
          ++rotated;
          if (bad_published.load()) ++after_bad;
        }
      }
    });
  }
  EXPECT_TRUE(WaitFor([&] { return requests.load() >= 20; }, std::chrono::seconds(20),
                      "20 requests on the first certificate"));
  Publish("2", ReadFile(second->cert), ReadFile(second->key));
  EXPECT_TRUE(WaitFor([&] { return rotated.load() >= 20; }, std::chrono::seconds(20),
                      "20 connections served the rotated certificate"));
  EXPECT_TRUE(CounterReaches("server.tls_cert_reloads", 1));
  // A bad rotation: a certificate file that is not PEM (the key is fine).
  Publish("3", "not a certificate\n", ReadFile(second->key));
  bad_published = true;
  EXPECT_TRUE(CounterReaches("server.tls_cert_reload_fail", 1));
  EXPECT_TRUE(WaitFor([&] { return after_bad.load() >= 20; }, std::chrono::seconds(20),
                      "20 connections still served the rotated certificate after the bad one"));
  stop = true;
  for (auto& t : clients) t.join();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(errors.empty()) << errors.size() << " failed requests, first: " << errors.front();
  EXPECT_GE(requests.load(), 60);
}

}  // namespace
}  // namespace rwtest
