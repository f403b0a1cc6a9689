// TlsOptions::crl_file against the rig's SSL listener: a CRL signed by the rig's CA that revokes
// the broker certificate's serial makes Client::start() fail with a TLS error saying the
// certificate is revoked; a CRL from the same CA that does not list the broker lets it connect.
// The CRLs are made here with OpenSSL's C API from the rig's CA key (DIR/certs next to CA_FILE).
// (No class-type temporaries inside co_await: GCC 12 bug.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "asiokafka/client.hpp"
#include "asiokafka/tls.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using crl_ptr = std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)>;
using time_ptr = std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)>;

struct file_closer {
  void operator()(FILE* f) const { std::fclose(f); }
};
using file_ptr = std::unique_ptr<FILE, file_closer>;

file_ptr open_file(const fs::path& path, const char* mode) {
  file_ptr f(std::fopen(path.c_str(), mode));
  if (!f) throw std::runtime_error("cannot open " + path.string());
  return f;
}

x509_ptr read_cert(const fs::path& path) {
  const file_ptr f = open_file(path, "r");
  x509_ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) throw std::runtime_error("no certificate in " + path.string());
  return cert;
}

pkey_ptr read_key(const fs::path& path) {
  const file_ptr f = open_file(path, "r");
  pkey_ptr key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) throw std::runtime_error("no private key in " + path.string());
  return key;
}

/// The rig's CA (certificate and key) and the broker certificate, from the rig's certs directory.
struct RigPki {
  explicit RigPki(const Rig& rig) {
    const fs::path certs = fs::path(rig.ca_file()).parent_path();
    ca = read_cert(certs / "ca.crt");
    ca_key = read_key(certs / "ca.key");
    broker = read_cert(certs / "broker.crt");
    client = read_cert(certs / "client.crt");
  }
  x509_ptr ca{nullptr, X509_free};
  pkey_ptr ca_key{nullptr, EVP_PKEY_free};
  x509_ptr broker{nullptr, X509_free};
  x509_ptr client{nullptr, X509_free};
};

/// Writes to `path` a v2 CRL issued and signed by the CA, valid from an hour ago for a day,
/// revoking the serial numbers of the `revoked` certificates (none: an empty CRL).
void write_crl(const RigPki& pki, const std::vector<const X509*>& revoked, const fs::path& path) {
  crl_ptr crl(X509_CRL_new(), X509_CRL_free);
  const time_ptr last_update(X509_gmtime_adj(nullptr, -3600), ASN1_TIME_free);
  const time_ptr next_update(X509_gmtime_adj(nullptr, 24 * 3600), ASN1_TIME_free);
  if (!crl || !last_update || !next_update || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(pki.ca.get())) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1) {
    throw std::runtime_error("cannot build the CRL");
  }
  for (const X509* cert : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    // set_serialNumber copies its argument but takes it non-const: give it a copy.
    const std::unique_ptr<ASN1_INTEGER, decltype(&ASN1_INTEGER_free)> serial(
        ASN1_INTEGER_dup(X509_get0_serialNumber(cert)), ASN1_INTEGER_free);
    if (entry == nullptr || !serial || X509_REVOKED_set_serialNumber(entry, serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry, last_update.get()) != 1 || X509_CRL_add0_revoked(crl.get(), entry) != 1) {
      X509_REVOKED_free(entry);
      throw std::runtime_error("cannot add a revoked serial to the CRL");
    }
  }
  if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), pki.ca_key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("cannot sign the CRL");
  }
  const file_ptr f = open_file(path, "w");
  if (PEM_write_X509_CRL(f.get(), crl.get()) != 1) throw std::runtime_error("cannot write " + path.string());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "asiokafka-crl-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// Starts a Client on the rig's SSL listener trusting the rig's CA and checking `crl_file`.
/// Returns "" when it started, else the what() of the std::system_error it threw.
std::string start_failure(const Rig& rig, const fs::path& crl_file) {
  ClientConfig config;
  config.bootstrap_servers = rig.bootstrap("SSL");
  config.security_protocol = SecurityProtocol::ssl;
  config.ssl_context = create_ssl_context(TlsOptions{.ca_file = rig.ca_file(), .crl_file = crl_file.string()});
  config.request_timeout = 15s;
  auto body = [](ClientConfig c) -> asio::awaitable<std::string> {
    Client client(co_await asio::this_coro::executor, std::move(c));
    try {
      co_await client.start();
    } catch (const std::system_error& e) {
      co_return std::string(e.what());
    }
    co_return std::string();
  };
  return run_async(body(std::move(config)), 60s);
}

TEST(TlsCrl, RevokedBrokerCertificateIsRefused) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigPki pki(rig);
  const TempDir dir;
  write_crl(pki, {pki.broker.get()}, dir / "revoked.crl.pem");
  const std::string what = start_failure(rig, dir / "revoked.crl.pem");
  ASSERT_FALSE(what.empty()) << "started with a revoked broker certificate";
  // X509_V_ERR_CERT_REVOKED, as OpenSSL words it, in the TLS failure's detail.
  EXPECT_NE(what.find("certificate revoked"), std::string::npos) << what;
}

TEST(TlsCrl, CrlWithoutTheBrokerIsAccepted) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const RigPki pki(rig);
  const TempDir dir;
  write_crl(pki, {}, dir / "empty.crl.pem");
  EXPECT_EQ(start_failure(rig, dir / "empty.crl.pem"), "");
  // Revoking another certificate of the same CA (the rig's client certificate) changes nothing.
  write_crl(pki, {pki.client.get()}, dir / "client-revoked.crl.pem");
  EXPECT_EQ(start_failure(rig, dir / "client-revoked.crl.pem"), "");
}

}  // namespace
}  // namespace asiokafka::test
