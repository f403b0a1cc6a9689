// create_ssl_context (include/asiokafka/tls.hpp): TlsOptions -> OpenSSL client context.
// Errors name the option and carry OpenSSL's reasons; PEM text and passwords are never put
// into a message.
#include "asiokafka/tls.hpp"
#include "net/sansio/address.hpp"

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace asiokafka {
namespace {

namespace asio = boost::asio;

struct bio_deleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct x509_deleter {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct pkey_deleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

/// One input: a file path or PEM text in memory, and how to name it in errors.
struct Source {
  std::string_view option;  // "TlsOptions.cert_file"
  std::string_view path;    // empty for in-memory PEM
  std::string_view pem;

  std::string name() const {
    return path.empty() ? std::string(option) : std::string(option) + " '" + std::string(path) + "'";
  }
};

/// The std::error_code for one OpenSSL error: system errors (a failed fopen) as errno values,
/// the others in Asio's SSL category, whose message is OpenSSL's reason.
std::error_code code_of(unsigned long e) {
  if (ERR_GET_LIB(e) == ERR_LIB_SYS) return {ERR_GET_REASON(e), std::generic_category()};
  return {static_cast<int>(e), asio::error::get_ssl_category()};
}

/// Drains OpenSSL's error queue into a system_error: the first error is the code (its message
/// ends what()), the others' reasons are listed before it.
[[noreturn]] void fail_openssl(const std::string& what) {
  const unsigned long first = ERR_get_error();
  const std::error_code code = first == 0 ? std::make_error_code(std::errc::invalid_argument) : code_of(first);
  const std::string first_text = code.message();
  std::string also;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    const char* reason = ERR_GET_LIB(e) == ERR_LIB_SYS ? nullptr : ERR_reason_error_string(e);
    const std::string text = reason != nullptr ? reason : code_of(e).message();
    if (text != first_text && also.find(text) == std::string::npos) also += (also.empty() ? "" : "; ") + text;
  }
  throw std::system_error(code, what + (also.empty() ? "" : " [" + also + "]"));
}

[[noreturn]] void fail_invalid(const std::string& what) {
  ERR_clear_error();
  throw std::system_error(std::make_error_code(std::errc::invalid_argument), what);
}

bio_ptr open(const Source& src) {
  ERR_clear_error();
  BIO* b = src.path.empty() ? BIO_new_mem_buf(src.pem.data(), static_cast<int>(src.pem.size()))
                            : BIO_new_file(std::string(src.path).c_str(), "r");
  if (b == nullptr) fail_openssl(src.name() + ": cannot be read");
  return bio_ptr(b);
}

/// True when the last error only says the PEM input has no further object.
bool only_end_of_input() {
  const unsigned long e = ERR_peek_last_error();
  if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return true;
  }
  return false;
}

/// Reads every certificate of `src` (PEM) into `out`; throws when there is none or one is bad.
std::vector<x509_ptr> read_certificates(const Source& src) {
  auto bio = open(src);
  std::vector<x509_ptr> out;
  for (;;) {
    x509_ptr cert(out.empty() ? PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr)
                              : PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert) {
      out.push_back(std::move(cert));
      continue;
    }
    if (!out.empty() && only_end_of_input()) break;
    fail_openssl(src.name() + (out.empty() ? ": no PEM certificate could be read"
                                           : ": certificate " + std::to_string(out.size() + 1) + " is invalid"));
  }
  return out;
}

struct PasswordState {
  const std::string* password = nullptr;
  bool asked = false;
};

int password_callback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* state = static_cast<PasswordState*>(user);
  if (state == nullptr || state->password == nullptr) return 0;
  state->asked = true;
  const auto& pw = *state->password;
  if (pw.empty() || pw.size() > static_cast<std::size_t>(size)) return 0;
  std::memcpy(buf, pw.data(), pw.size());
  return static_cast<int>(pw.size());
}

/// Refuses every password request, so OpenSSL never prompts on the terminal.
int no_password(char*, int, int, void*) { return 0; }

pkey_ptr read_private_key(const Source& src, const std::string& password) {
  auto bio = open(src);
  PasswordState state{&password};
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, password_callback, &state));
  if (key) return key;
  std::string why = src.name() + ": no private key could be read";
  if (state.asked) {
    why += password.empty() ? " (the key is encrypted and TlsOptions.key_password is empty)"
                            : " (the key is encrypted: is TlsOptions.key_password right?)";
  }
  fail_openssl(why);
}

bool looks_hashed(const std::filesystem::path& file) {
  // <8 hex digits>.<digit(s)> for certificates, .r<digit(s)> for CRLs (`openssl rehash`).
  const std::string name = file.filename().string();
  if (name.size() < 10 || name[8] != '.') return false;
  for (std::size_t i = 0; i < 8; ++i) {
    if (std::string_view("0123456789abcdef").find(name[i]) == std::string_view::npos) return false;
  }
  return true;
}

void load_ca_dir(SSL_CTX* ctx, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) fail_invalid("TlsOptions.ca_dir '" + dir + "': not a directory");
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (looks_hashed(entry.path())) {
      any = true;
      break;
    }
  }
  if (!any) {
    fail_invalid("TlsOptions.ca_dir '" + dir +
                 "': no certificate named by subject hash (<hash>.0); run `openssl rehash` on it");
  }
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx, nullptr, dir.c_str()) != 1) {
    fail_openssl("TlsOptions.ca_dir '" + dir + "': cannot be used");
  }
}

void load_cas(SSL_CTX* ctx, const TlsOptions& o) {
  if (o.ca_file.empty() && o.ca_dir.empty() && o.ca_pem.empty()) {
    ERR_clear_error();
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) fail_openssl("the system's default CA paths");
    return;
  }
  if (!o.ca_file.empty()) {
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
      fail_openssl("TlsOptions.ca_file '" + o.ca_file + "': no CA certificate could be loaded");
    }
  }
  if (!o.ca_dir.empty()) load_ca_dir(ctx, o.ca_dir);
  if (!o.ca_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (auto& cert : read_certificates({"TlsOptions.ca_pem", {}, o.ca_pem})) {
      if (X509_STORE_add_cert(store, cert.get()) != 1) fail_openssl("TlsOptions.ca_pem: adding a certificate");
    }
  }
}

void load_crls(SSL_CTX* ctx, const std::string& crl_file) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  ERR_clear_error();
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == nullptr || X509_load_crl_file(lookup, crl_file.c_str(), X509_FILETYPE_PEM) <= 0) {
    fail_openssl("TlsOptions.crl_file '" + crl_file + "': no CRL could be loaded");
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
}

void load_identity(SSL_CTX* ctx, const TlsOptions& o) {
  if (!o.cert_file.empty() && !o.cert_pem.empty()) {
    fail_invalid("TlsOptions.cert_file and TlsOptions.cert_pem are both set; give one");
  }
  if (!o.key_file.empty() && !o.key_pem.empty()) {
    fail_invalid("TlsOptions.key_file and TlsOptions.key_pem are both set; give one");
  }
  const bool has_cert = !o.cert_file.empty() || !o.cert_pem.empty();
  const bool has_key = !o.key_file.empty() || !o.key_pem.empty();
  if (!has_cert) {
    if (has_key) fail_invalid("a private key is set (TlsOptions.key_file/key_pem) without a certificate");
    return;
  }
  const Source cert_src = o.cert_file.empty() ? Source{"TlsOptions.cert_pem", {}, o.cert_pem}
                                              : Source{"TlsOptions.cert_file", o.cert_file, {}};
  // Without a separate key, the certificate's PEM holds the key as well.
  const Source key_src = !o.key_file.empty() ? Source{"TlsOptions.key_file", o.key_file, {}}
                         : !o.key_pem.empty() ? Source{"TlsOptions.key_pem", {}, o.key_pem}
                                              : cert_src;

  auto chain = read_certificates(cert_src);
  ERR_clear_error();
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) fail_openssl(cert_src.name() + ": certificate refused");
  SSL_CTX_clear_chain_certs(ctx);
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) fail_openssl(cert_src.name() + ": chain certificate refused");
  }

  auto key = read_private_key(key_src, o.key_password);
  ERR_clear_error();
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    fail_openssl(key_src.name() + ": the private key does not match the certificate of " + cert_src.name());
  }
}

void set_server_name(SSL_CTX* ctx, const std::string& name) {
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  ERR_clear_error();
  if (net::is_ip_literal(name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
      fail_openssl("TlsOptions.server_name '" + name + "': not usable");
    }
    return;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, name.data(), name.size()) != 1) {
    fail_openssl("TlsOptions.server_name '" + name + "': not usable");
  }
}

}  // namespace

std::shared_ptr<asio::ssl::context> create_ssl_context(const TlsOptions& options) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  // Never prompt for a password on the terminal (keys are decrypted with our own callback).
  SSL_CTX_set_default_passwd_cb(ctx, no_password);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);

  const int min_version = options.min_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) fail_openssl("TlsOptions.min_version: not supported");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);

  load_cas(ctx, options);
  if (!options.crl_file.empty()) load_crls(ctx, options.crl_file);
  load_identity(ctx, options);
  if (!options.server_name.empty()) set_server_name(ctx, options.server_name);
  ERR_clear_error();
  return context;
}

}  // namespace asiokafka
