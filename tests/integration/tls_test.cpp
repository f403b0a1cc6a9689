// create_ssl_context (include/asiokafka/tls.hpp) with net::Connection against the rig's SSL and
// MTLS listeners: CAs from a file, a hashed directory and memory; client identity from PEM
// strings and from an encrypted key; host-name mismatch and an unknown CA fail clearly.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include <boost/asio/this_coro.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "asiokafka/tls.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Connects (TLS with the context from `tls`) and reads Metadata; returns the cluster id.
asio::awaitable<std::string> cluster_id_via(std::string host, std::uint16_t port, net::ConnectionOptions options) {
  auto ex = co_await asio::this_coro::executor;
  net::Connection conn = co_await net::connect(ex, host, port, std::move(options));
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  std::string id = md->cluster_id.value_or("");
  co_await conn.close();
  co_return id;
}

std::string cluster_id(const std::string& address, const TlsOptions& tls) {
  const HostPort target = split_host_port(address);
  net::ConnectionOptions options;
  options.tls = net::ConnectionTls{create_ssl_context(tls), tls.verify_hostname};
  return run_async(cluster_id_via(target.host, target.port, std::move(options)), 30s);
}

/// The what() of the failure, or "" when the connection worked.
std::string failure(const std::string& address, const TlsOptions& tls) {
  try {
    (void)cluster_id(address, tls);
  } catch (const std::system_error& e) {
    return e.what();
  }
  return {};
}

/// A temporary directory with the CA file under its subject-hash name (`openssl rehash` layout).
class HashedCaDir {
 public:
  explicit HashedCaDir(const std::string& ca_file) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "asiokafka-cadir-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    FILE* f = std::fopen(ca_file.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot open " + ca_file);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (cert == nullptr) throw std::runtime_error("no certificate in " + ca_file);
    char name[16];
    std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(cert));
    X509_free(cert);
    std::filesystem::copy_file(ca_file, dir_ / name);
  }
  ~HashedCaDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

TEST(TlsRealBroker, CaFromFile) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_EQ(cluster_id(rig.node(1).listener("SSL"), {.ca_file = rig.ca_file()}), rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, CaFromHashedDirectory) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const HashedCaDir dir(rig.ca_file());
  EXPECT_EQ(cluster_id(rig.node(1).listener("SSL"), {.ca_dir = dir.path()}), rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, CaFromMemory) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // Several CAs in one PEM: the unrelated one first.
  const std::string cas = read_text(rig.get("OTHER_CA_FILE")) + read_text(rig.ca_file());
  EXPECT_EQ(cluster_id(rig.node(1).listener("SSL"), {.ca_pem = cas}), rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, MutualTlsWithPemStrings) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const TlsOptions tls{.ca_pem = read_text(rig.ca_file()),
                       .cert_pem = read_text(rig.get("CLIENT_CERT")),
                       .key_pem = read_text(rig.get("CLIENT_KEY"))};
  EXPECT_EQ(cluster_id(rig.node(1).listener("MTLS"), tls), rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, MutualTlsWithEncryptedKeyAndPassword) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const TlsOptions tls{.ca_file = rig.ca_file(),
                       .cert_file = rig.get("CLIENT_CERT"),
                       .key_file = rig.get("CLIENT_KEY_ENCRYPTED"),
                       .key_password = rig.get("CLIENT_KEY_PASSWORD")};
  EXPECT_EQ(cluster_id(rig.node(1).listener("MTLS"), tls), rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, ServerNameInTheCertificateIsAccepted) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // Connecting to 127.0.0.1 while requiring the name "localhost": both are in the SAN.
  EXPECT_EQ(cluster_id(rig.node(1).listener("SSL"), {.ca_file = rig.ca_file(), .server_name = "localhost"}),
            rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, HostNameMismatchFailsClearly) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string address = rig.node(1).listener("SSL");
  const std::string what = failure(address, {.ca_file = rig.ca_file(), .server_name = "not-the-broker.example"});
  ASSERT_FALSE(what.empty()) << "TLS accepted a certificate for another host";
  EXPECT_NE(what.find("hostname mismatch"), std::string::npos) << what;  // X509_V_ERR_HOSTNAME_MISMATCH
  EXPECT_NE(what.find(address), std::string::npos) << what;
  // The same name with verify_hostname off is not checked.
  EXPECT_EQ(cluster_id(address, {.ca_file = rig.ca_file(), .verify_hostname = false,
                                 .server_name = "not-the-broker.example"}),
            rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, WrongCaFails) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string what = failure(rig.node(1).listener("SSL"), {.ca_pem = read_text(rig.get("OTHER_CA_FILE"))});
  ASSERT_FALSE(what.empty()) << "TLS verification passed with the wrong CA";
  EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
}

}  // namespace
}  // namespace asiokafka::test
