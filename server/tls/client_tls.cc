#include "server/tls/client_tls.h"

#include <openssl/x509v3.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/ip/address.hpp"
#include "server/tls/tls_defaults.h"

namespace rwproxy {

namespace {
bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}
}  // namespace

std::string_view EndpointHost(std::string_view source) {
  if (!source.empty() && source.front() == '[') {
    size_t close = source.find(']');
    return close == std::string_view::npos ? source : source.substr(1, close - 1);
  }
  size_t colon = source.rfind(':');
  return colon == std::string_view::npos ? source : source.substr(0, colon);
}

UpstreamTls::~UpstreamTls() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::shared_ptr<const UpstreamTls>> UpstreamTls::Create(
    const UpstreamTlsSpec& spec, std::vector<std::string>* warnings) {
  absl::StatusOr<SSL_CTX*> made = NewTlsContext(false, spec.min_version);
  if (!made.ok()) return made.status();
  std::shared_ptr<UpstreamTls> tls(new UpstreamTls());
  tls->ctx_ = *made;
  tls->spec_ = spec;
  SSL_CTX* ctx = tls->ctx_;
  if (spec.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!spec.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, spec.ca_file.c_str(), nullptr) != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("ca_file ", spec.ca_file, ": ", OpenSslError("cannot load")));
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the system CA store: ", OpenSslError("cannot load")));
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!spec.client_cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, spec.client_cert.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_cert ", spec.client_cert, ": ", OpenSslError("cannot load")));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, spec.client_key.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::string why = OpenSslError("cannot load");
      if (absl::StrContains(why, "mismatch")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "client_key ", spec.client_key, " does not match client_cert ", spec.client_cert));
      }
      return absl::InvalidArgumentError(absl::StrCat("client_key ", spec.client_key, ": ", why));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "client_key ", spec.client_key, " does not match client_cert ", spec.client_cert));
    }
    if (WorldReadable(spec.client_key)) {
      warnings->push_back(absl::StrCat("client_key ", spec.client_key,
                                       " is readable by every user: make it mode 0600"));
    }
  }
  // The settings (not the file contents: a rotated CA or client certificate is picked up by the
  // next config compile, and the settings alone decide which connections may be shared).
  size_t hash = std::hash<std::string>{}(absl::StrCat(
      spec.sni, "|", spec.verify, "|", spec.ca_file, "|", spec.client_cert, "|", spec.client_key,
      "|", static_cast<int>(spec.min_version)));
  tls->identity_ = absl::StrCat("tls:", absl::Hex(hash));
  return std::shared_ptr<const UpstreamTls>(std::move(tls));
}

std::string UpstreamTls::ServerName(std::string_view endpoint_host) const {
  return spec_.sni.empty() ? std::string(endpoint_host) : spec_.sni;
}

bool UpstreamTls::Prepare(SSL* ssl, const std::string& server_name) const {
  if (server_name.empty()) return true;
  const bool ip = IsIpLiteral(server_name);
  if (!ip && SSL_set_tlsext_host_name(ssl, server_name.c_str()) != 1) return false;
  if (!spec_.verify) return true;
  if (ip) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str()) == 1;
  // Names only in the SAN (or CN without SAN); no partial wildcards such as "a*.example.com".
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, server_name.c_str()) == 1;
}

}  // namespace rwproxy
