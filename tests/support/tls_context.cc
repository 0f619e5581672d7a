#include "tests/support/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"

namespace rwtest {
namespace {

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

absl::Status Failed(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", SslErrorText(nullptr)));
}

}  // namespace

absl::StatusOr<SSL_CTX*> NewClientContext(const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Failed("SSL_CTX_new");
  absl::Status status = [&]() -> absl::Status {
    if (options.min_version != TlsVersion::kDefault &&
        SSL_CTX_set_min_proto_version(ctx, static_cast<int>(options.min_version)) != 1) {
      return Failed("min TLS version");
    }
    if (options.max_version != TlsVersion::kDefault &&
        SSL_CTX_set_max_proto_version(ctx, static_cast<int>(options.max_version)) != 1) {
      return Failed("max TLS version");
    }
    if (options.ca_file.empty()) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
      if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
        return Failed(absl::StrCat("CA file ", options.ca_file));
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    if (!options.client_cert.empty() || !options.client_key.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx, options.client_cert.c_str()) != 1) {
        return Failed(absl::StrCat("client certificate ", options.client_cert));
      }
      if (SSL_CTX_use_PrivateKey_file(ctx, options.client_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(ctx) != 1) {
        return Failed(absl::StrCat("client key ", options.client_key));
      }
    }
    if (!options.alpn.empty()) {
      std::string wire;
      for (const std::string& protocol : options.alpn) {
        if (protocol.empty() || protocol.size() > 255) {
          return absl::InvalidArgumentError(absl::StrCat("bad ALPN protocol '", protocol, "'"));
        }
        wire.push_back(static_cast<char>(protocol.size()));
        wire += protocol;
      }
      // Returns 0 on success (unlike most of OpenSSL).
      if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                  static_cast<unsigned int>(wire.size())) != 0) {
        return Failed("ALPN");
      }
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    SSL_CTX_free(ctx);
    return status;
  }
  return ctx;
}

absl::Status ConfigureClient(SSL* ssl, const TlsOptions& options) {
  if (!options.sni.empty() && SSL_set_tlsext_host_name(ssl, options.sni.c_str()) != 1) {
    return Failed(absl::StrCat("SNI ", options.sni));
  }
  const std::string& host = options.verify_host.empty() ? options.sni : options.verify_host;
  if (!options.ca_file.empty() && !host.empty()) {
    const int ok = IsIpAddress(host)
                       ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                       : SSL_set1_host(ssl, host.c_str());
    if (ok != 1) return Failed(absl::StrCat("name to verify ", host));
  }
  if (options.session != nullptr && SSL_set_session(ssl, options.session.get()) != 1) {
    return Failed("session to resume");
  }
  return absl::OkStatus();
}

std::string SslErrorText(SSL* ssl) {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    absl::StrAppend(&out, out.empty() ? "" : "; ", buf);
  }
  if (ssl != nullptr && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      absl::StrAppend(&out, " (verify: ", X509_verify_cert_error_string(verify), ")");
    }
  }
  return out;
}

void DescribePeer(SSL* ssl, std::string& cn, std::vector<std::string>& sans) {
  cn.clear();
  sans.clear();
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return;
  char text[256] = {0};
  const int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, text, sizeof text);
  if (n > 0) cn.assign(text, static_cast<size_t>(n));
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* dns = name->d.dNSName;
      sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                        static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int len = ASN1_STRING_length(ip);
      char addr[INET6_ADDRSTRLEN] = {0};
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), addr, sizeof addr)) {
        sans.emplace_back(addr);
      }
    }
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
}

}  // namespace rwtest
