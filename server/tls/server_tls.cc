#include "server/tls/server_tls.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/tls/tls_defaults.h"

namespace rwproxy {

namespace {

// ALPN: http/1.1 when the client offers it; a client that offers only other protocols (h2
// alone, say) is refused with no_application_protocol (RFC 7301 §3.2) rather than served a
// protocol it did not ask for.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned in_len, void*) {
  for (unsigned i = 0; i < in_len;) {
    unsigned len = in[i];
    if (i + 1 + len > in_len) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *out_len = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

std::vector<std::string> CertNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back(absl::AsciiStrToLower(
          std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                      static_cast<size_t>(ASN1_STRING_length(dns)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                  sizeof(cn)) > 0) {
      names.push_back(absl::AsciiStrToLower(cn));
    }
  }
  return names;
}

std::string DateText(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return "?";
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%SZ", &tm);
  return text;
}

// "rwproxy" without client certificates; else a SHA-256 of the client CA file and the
// requirement (SSL_MAX_SID_CTX_LENGTH is 32 bytes).
std::string SessionContext(const ServerTlsOptions& options) {
  if (options.client_ca.empty()) return "rwproxy";
  std::ifstream in(options.client_ca, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text.append(options.require_client_cert ? "|required" : "|optional");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest),
                     std::min<size_t>(size, SSL_MAX_SID_CTX_LENGTH));
}

}  // namespace

TicketKeys RandomTicketKeys() {
  TicketKeys keys{};
  RAND_bytes(keys.data(), static_cast<int>(keys.size()));
  return keys;
}

ServerTlsContexts::~ServerTlsContexts() {
  for (Entry& entry : entries_) SSL_CTX_free(entry.ctx);
}

absl::StatusOr<std::shared_ptr<const ServerTlsContexts>> ServerTlsContexts::Load(
    const ServerTlsOptions& options, const TicketKeys& keys, std::vector<std::string>* warnings) {
  if (options.certs.empty()) return absl::InvalidArgumentError("no TLS certificate given");
  std::shared_ptr<ServerTlsContexts> result(new ServerTlsContexts());
  for (const CertKeyFiles& files : options.certs) {
    absl::StatusOr<SSL_CTX*> made = NewTlsContext(true, options.min_version);
    if (!made.ok()) return made.status();
    Entry& entry = result->entries_.emplace_back();
    entry.ctx = *made;
    SSL_CTX* ctx = entry.ctx;
    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS certificate ", files.cert, ": ", OpenSslError("cannot load")));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::string why = OpenSslError("cannot load");
      if (absl::StrContains(why, "mismatch")) {
        return absl::InvalidArgumentError(absl::StrCat("TLS key ", files.key,
                                                       " does not match certificate ", files.cert));
      }
      return absl::InvalidArgumentError(absl::StrCat("TLS key ", files.key, ": ", why));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("TLS key ", files.key,
                                                     " does not match certificate ", files.cert));
    }
    X509* cert = SSL_CTX_get0_certificate(ctx);
    entry.not_after = DateText(X509_get0_notAfter(cert));
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("TLS certificate ", files.cert,
                                                     " expired at ", entry.not_after));
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS certificate ", files.cert, " is not valid before ",
                       DateText(X509_get0_notBefore(cert))));
    }
    entry.names = CertNames(cert);
    if (WorldReadable(files.key)) {
      warnings->push_back(absl::StrCat("TLS key ", files.key,
                                       " is readable by every user: make it mode 0600 (or 0640)"));
    }
    if (!options.client_ca.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, options.client_ca.c_str(), nullptr) != 1) {
        return absl::InvalidArgumentError(absl::StrCat("TLS client CA ", options.client_ca, ": ",
                                                       OpenSslError("cannot load")));
      }
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
      SSL_CTX_set_verify(ctx,
                         SSL_VERIFY_PEER |
                             (options.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                         nullptr);
    }
    // Sessions (tickets) resume only under the same client-certificate policy: a reload that
    // changes the client CAs or the requirement changes the context, so a ticket issued under
    // the old CAs does not skip the new check.
    const std::string context = SessionContext(options);
    SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(context.data()),
                                   static_cast<unsigned>(context.size()));
    // Resumption by tickets only: a server-side session cache would be one lock shared by every
    // worker's handshakes.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (options.session_tickets) {
      SSL_CTX_set_tlsext_ticket_keys(ctx, const_cast<unsigned char*>(keys.data()),
                                     static_cast<long>(keys.size()));
    } else {
      SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
      SSL_CTX_set_num_tickets(ctx, 0);
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, &ServerTlsContexts::OnServerName);
    SSL_CTX_set_tlsext_servername_arg(ctx, result.get());
    SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  }
  return std::shared_ptr<const ServerTlsContexts>(std::move(result));
}

SSL_CTX* ServerTlsContexts::Find(std::string_view server_name) const {
  std::string name(server_name);
  absl::AsciiStrToLower(&name);
  for (const Entry& entry : entries_) {
    for (const std::string& n : entry.names) {
      if (n == name) return entry.ctx;
    }
  }
  // "*.example.com" covers exactly one label: "a.example.com", not "a.b.example.com".
  size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return nullptr;
  std::string_view parent = std::string_view(name).substr(dot);
  for (const Entry& entry : entries_) {
    for (const std::string& n : entry.names) {
      if (n.size() > 2 && n[0] == '*' && n[1] == '.' && std::string_view(n).substr(1) == parent) {
        return entry.ctx;
      }
    }
  }
  return nullptr;
}

int ServerTlsContexts::OnServerName(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // the default certificate
  SSL_CTX* ctx = static_cast<const ServerTlsContexts*>(arg)->Find(name);
  if (ctx != nullptr && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;  // no match: the default certificate, as nginx and Envoy do
}

std::vector<std::string> ServerTlsContexts::Describe() const {
  std::vector<std::string> out;
  for (const Entry& entry : entries_) {
    out.push_back(absl::StrCat(absl::StrJoin(entry.names, ","), " (until ", entry.not_after, ")"));
  }
  return out;
}

}  // namespace rwproxy
