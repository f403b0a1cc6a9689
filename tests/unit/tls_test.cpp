// create_ssl_context (include/asiokafka/tls.hpp) without a broker: every bad input gives a
// std::system_error naming the option, and never the PEM text or the password. The keys and
// certificates are made here, at test time, with OpenSSL's C API (EC P-256: fast).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "asiokafka/tls.hpp"

namespace asiokafka::test {
namespace {

struct Pkey {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> p{nullptr, EVP_PKEY_free};
};
struct Cert {
  std::unique_ptr<X509, decltype(&X509_free)> p{nullptr, X509_free};
};

Pkey make_key() {
  Pkey k;
  k.p.reset(EVP_EC_gen("P-256"));
  if (!k.p) throw std::runtime_error("EVP_EC_gen failed");
  return k;
}

/// A certificate for `subject_cn` and `key`, signed by `issuer_key` (self-signed when it is
/// `key` and `issuer` is null).
Cert make_cert(const std::string& subject_cn, const Pkey& key, const Pkey& issuer_key, const Cert* issuer, bool ca) {
  Cert c;
  c.p.reset(X509_new());
  X509* x = c.p.get();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
  X509_set_pubkey(x, key.p.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->p.get()) : name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer != nullptr ? issuer->p.get() : x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (X509_sign(x, issuer_key.p.get(), EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  return c;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

std::string pem(const Cert& c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c.p.get());
  return bio_text(b);
}

std::string pem(const Pkey& k, const std::string& password = {}) {
  BIO* b = BIO_new(BIO_s_mem());
  if (password.empty()) {
    PEM_write_bio_PrivateKey(b, k.p.get(), nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PKCS8PrivateKey(b, k.p.get(), EVP_aes_256_cbc(), password.data(), static_cast<int>(password.size()),
                                  nullptr, nullptr);
  }
  return bio_text(b);
}

/// A CA, a second unrelated CA, and a client certificate signed by the first.
struct Pki {
  Pkey ca_key = make_key();
  Cert ca = make_cert("test-ca", ca_key, ca_key, nullptr, true);
  Pkey other_ca_key = make_key();
  Cert other_ca = make_cert("other-ca", other_ca_key, other_ca_key, nullptr, true);
  Pkey client_key = make_key();
  Cert client = make_cert("client", client_key, ca_key, &ca, false);
  Pkey server_key = make_key();
  Cert server = make_cert("server", server_key, ca_key, &ca, false);
  Pkey unrelated_key = make_key();
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "asiokafka-tls-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// A server context for the in-memory handshakes below: the test CA's "server" certificate, and
/// a client certificate signed by the test CA required of every client.
struct TestServer {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_server_method()), SSL_CTX_free};

  explicit TestServer(int max_version = 0) {
    if (!ctx || SSL_CTX_use_certificate(ctx.get(), pki().server.p.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), pki().server_key.p.get()) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), pki().ca.p.get()) != 1 ||
        (max_version != 0 && SSL_CTX_set_max_proto_version(ctx.get(), max_version) != 1)) {
      throw std::runtime_error("cannot build the test server context");
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
};

/// What an in-memory TLS handshake between a client context and a TestServer established.
struct Handshake {
  bool ok = false;
  int version = 0;                                                // the negotiated protocol
  std::unique_ptr<X509, decltype(&X509_free)> client_cert{nullptr, X509_free};  // as the server saw it
};

/// Runs a TLS handshake over a BIO pair (no sockets), both sides stepped in turn; bounded in steps.
Handshake handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx) {
  using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;
  ssl_ptr client(SSL_new(client_ctx), SSL_free), server(SSL_new(server_ctx), SSL_free);
  if (!client || !server) throw std::runtime_error("SSL_new failed");
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) throw std::runtime_error("BIO_new_bio_pair failed");
  SSL_set_bio(client.get(), client_bio, client_bio);  // each SSL now owns its end
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  Handshake result;
  bool client_done = false, server_done = false;
  for (int step = 0; step < 50 && !(client_done && server_done); ++step) {
    for (SSL* side : {client.get(), server.get()}) {
      bool& done = side == client.get() ? client_done : server_done;
      if (done) continue;
      const int rc = SSL_do_handshake(side);
      if (rc == 1) {
        done = true;
        continue;
      }
      const int err = SSL_get_error(side, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return result;  // one side refused the other
      }
    }
  }
  ERR_clear_error();
  if (!client_done || !server_done) return result;
  result.ok = SSL_get_verify_result(client.get()) == X509_V_OK && SSL_get_verify_result(server.get()) == X509_V_OK;
  result.version = SSL_version(client.get());
  result.client_cert.reset(SSL_get1_peer_certificate(server.get()));
  return result;
}

/// The context holds exactly the test client's certificate and private key, and they let it
/// complete a handshake with a server that requires a client certificate from the test CA.
void expect_client_identity(const std::shared_ptr<boost::asio::ssl::context>& ctx) {
  ASSERT_NE(ctx, nullptr);
  SSL_CTX* native = ctx->native_handle();
  X509* cert = SSL_CTX_get0_certificate(native);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_cmp(cert, pki().client.p.get()), 0);
  EVP_PKEY* key = SSL_CTX_get0_privatekey(native);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(key, pki().client_key.p.get()), 1);
  const TestServer server;
  const Handshake h = handshake(native, server.ctx.get());
  ASSERT_TRUE(h.ok) << "the handshake with a server requiring the test client certificate failed";
  ASSERT_NE(h.client_cert, nullptr);
  EXPECT_EQ(X509_cmp(h.client_cert.get(), pki().client.p.get()), 0);
}

/// The what() of the system_error create_ssl_context throws (fails the test when none).
std::string error_of(const TlsOptions& options, std::error_code* code = nullptr) {
  try {
    (void)create_ssl_context(options);
  } catch (const std::system_error& e) {
    if (code != nullptr) *code = e.code();
    return e.what();
  }
  ADD_FAILURE() << "create_ssl_context accepted the options";
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(CreateSslContext, DefaultsVerifyThePeerWithTls12AtLeast) {
  const auto ctx = create_ssl_context(TlsOptions{});
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx->native_handle()), SSL_VERIFY_PEER);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
  const auto ctx13 = create_ssl_context(TlsOptions{.min_version = TlsVersion::tls1_3});
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx13->native_handle()), TLS1_3_VERSION);
}

TEST(CreateSslContext, MissingCaFileNamesTheOptionAndTheReason) {
  const std::string what = error_of({.ca_file = "/nonexistent/ca.pem"});
  EXPECT_TRUE(contains(what, "TlsOptions.ca_file")) << what;
  EXPECT_TRUE(contains(what, "/nonexistent/ca.pem")) << what;
  EXPECT_TRUE(contains(what, "No such file")) << what;
}

TEST(CreateSslContext, GarbageCaFileIsRefused) {
  TempDir dir;
  const std::string what = error_of({.ca_file = dir.write("ca.pem", "not a certificate\n")});
  EXPECT_TRUE(contains(what, "TlsOptions.ca_file")) << what;
}

TEST(CreateSslContext, GarbageCaPemIsRefusedWithoutEchoingIt) {
  std::error_code code;
  const std::string what = error_of({.ca_pem = "-----BEGIN CERTIFICATE-----\nc2VjcmV0Cg==\n-----END CERTIFICATE-----\n"},
                                    &code);
  EXPECT_TRUE(contains(what, "TlsOptions.ca_pem")) << what;
  EXPECT_FALSE(contains(what, "c2VjcmV0")) << what;
  EXPECT_TRUE(code) << what;
}

TEST(CreateSslContext, CaPemWithSeveralCertificatesTrustsThemAll) {
  const auto ctx = create_ssl_context({.ca_pem = pem(pki().ca) + pem(pki().other_ca)});
  const auto* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx->native_handle()));
  EXPECT_EQ(sk_X509_OBJECT_num(objects), 2);
}

TEST(CreateSslContext, CaDirMustExistAndBeHashed) {
  std::error_code code;
  std::string what = error_of({.ca_dir = "/nonexistent/certs"}, &code);
  EXPECT_TRUE(contains(what, "TlsOptions.ca_dir")) << what;
  EXPECT_EQ(code, std::errc::invalid_argument);
  TempDir dir;
  dir.write("ca.pem", pem(pki().ca));
  what = error_of({.ca_dir = dir.path()});
  EXPECT_TRUE(contains(what, "openssl rehash")) << what;
}

TEST(CreateSslContext, ClientCertificateAndKeyFromPem) {
  expect_client_identity(create_ssl_context({.ca_pem = pem(pki().ca), .cert_pem = pem(pki().client),
                                             .key_pem = pem(pki().client_key)}));
  // One PEM holding both.
  expect_client_identity(create_ssl_context({.ca_pem = pem(pki().ca), .cert_pem = pem(pki().client) + pem(pki().client_key)}));
}

TEST(CreateSslContext, EncryptedKeyWithThePassword) {
  TempDir dir;
  const auto key = dir.write("client.key", pem(pki().client_key, "right-pass"));
  const auto cert = dir.write("client.crt", pem(pki().client));
  const auto ca = dir.write("ca.pem", pem(pki().ca));
  expect_client_identity(create_ssl_context({.ca_file = ca, .cert_file = cert, .key_file = key, .key_password = "right-pass"}));
}

// The handshake helper can tell: without the identity, or without trusting the server's CA, or
// below the minimum version, the handshake fails.
TEST(CreateSslContext, HandshakeNeedsTheIdentityTheCaAndTheVersion) {
  const TestServer server;
  const auto anonymous = create_ssl_context({.ca_pem = pem(pki().ca)});
  EXPECT_FALSE(handshake(anonymous->native_handle(), server.ctx.get()).ok) << "the server requires a certificate";
  const auto untrusting = create_ssl_context({.ca_pem = pem(pki().other_ca), .cert_pem = pem(pki().client),
                                              .key_pem = pem(pki().client_key)});
  EXPECT_FALSE(handshake(untrusting->native_handle(), server.ctx.get()).ok) << "the server's CA is not trusted";

  const TestServer tls12_only(TLS1_2_VERSION);
  const auto tls12 = create_ssl_context({.ca_pem = pem(pki().ca), .cert_pem = pem(pki().client),
                                         .key_pem = pem(pki().client_key)});
  const Handshake h = handshake(tls12->native_handle(), tls12_only.ctx.get());
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(h.version, TLS1_2_VERSION);
  const auto tls13 = create_ssl_context({.ca_pem = pem(pki().ca), .cert_pem = pem(pki().client),
                                         .key_pem = pem(pki().client_key), .min_version = TlsVersion::tls1_3});
  EXPECT_FALSE(handshake(tls13->native_handle(), tls12_only.ctx.get()).ok) << "min_version tls1_3 accepted TLS 1.2";
  EXPECT_EQ(handshake(tls13->native_handle(), server.ctx.get()).version, TLS1_3_VERSION);
}

TEST(CreateSslContext, WrongKeyPasswordNamesTheOptionNotThePassword) {
  TempDir dir;
  const auto key = dir.write("client.key", pem(pki().client_key, "right-pass"));
  const auto cert = dir.write("client.crt", pem(pki().client));
  const std::string what = error_of({.cert_file = cert, .key_file = key, .key_password = "wrong-pass-123"});
  EXPECT_TRUE(contains(what, "TlsOptions.key_file")) << what;
  EXPECT_TRUE(contains(what, "key_password")) << what;
  EXPECT_FALSE(contains(what, "wrong-pass-123")) << what;
  EXPECT_FALSE(contains(what, "right-pass")) << what;
}

TEST(CreateSslContext, EncryptedKeyWithoutPasswordSaysSo) {
  const std::string what = error_of({.cert_pem = pem(pki().client), .key_pem = pem(pki().client_key, "right-pass")});
  EXPECT_TRUE(contains(what, "TlsOptions.key_pem")) << what;
  EXPECT_TRUE(contains(what, "key_password is empty")) << what;
  EXPECT_FALSE(contains(what, "PRIVATE KEY")) << what;
}

TEST(CreateSslContext, KeyNotMatchingTheCertificate) {
  const std::string what = error_of({.cert_pem = pem(pki().client), .key_pem = pem(pki().unrelated_key)});
  EXPECT_TRUE(contains(what, "TlsOptions.key_pem")) << what;
  EXPECT_TRUE(contains(what, "does not match")) << what;
  EXPECT_TRUE(contains(what, "TlsOptions.cert_pem")) << what;
}

TEST(CreateSslContext, GarbageCertificatePem) {
  const std::string what = error_of({.cert_pem = "garbage", .key_pem = pem(pki().client_key)});
  EXPECT_TRUE(contains(what, "TlsOptions.cert_pem")) << what;
}

TEST(CreateSslContext, InconsistentOptionsAreInvalidArguments) {
  std::error_code code;
  std::string what = error_of({.cert_file = "/a", .cert_pem = pem(pki().client)}, &code);
  EXPECT_EQ(code, std::errc::invalid_argument);
  EXPECT_TRUE(contains(what, "TlsOptions.cert_file and TlsOptions.cert_pem")) << what;
  what = error_of({.key_pem = pem(pki().client_key)}, &code);
  EXPECT_EQ(code, std::errc::invalid_argument);
  EXPECT_TRUE(contains(what, "without a certificate")) << what;
  EXPECT_FALSE(contains(what, "PRIVATE KEY")) << what;
}

TEST(CreateSslContext, CrlFileMustHoldACrl) {
  TempDir dir;
  const std::string what = error_of({.ca_pem = pem(pki().ca), .crl_file = dir.write("crl.pem", "nothing here\n")});
  EXPECT_TRUE(contains(what, "TlsOptions.crl_file")) << what;
}

TEST(CreateSslContext, ServerNameIsCheckedByTheContext) {
  const auto ctx = create_ssl_context({.ca_pem = pem(pki().ca), .server_name = "broker.example"});
  const char* host = X509_VERIFY_PARAM_get0_host(SSL_CTX_get0_param(ctx->native_handle()), 0);
  ASSERT_NE(host, nullptr);
  EXPECT_STREQ(host, "broker.example");
  // Without server_name the context requires no name (the connection checks the host).
  const auto off = create_ssl_context({.ca_pem = pem(pki().ca)});
  EXPECT_EQ(X509_VERIFY_PARAM_get0_host(SSL_CTX_get0_param(off->native_handle()), 0), nullptr);
}

}  // namespace
}  // namespace asiokafka::test
