// create_ssl_context (include/asiokafka/tls.hpp) with net::connection against the rig's SSL and
// MTLS listeners: CAs from a file, a hashed directory and memory; client identity from PEM
// strings and from an encrypted key; host-name mismatch and an unknown CA fail clearly; the
// connection's host-name check (ssl_check_hostname) on and off.
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

#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/tls.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
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

/// Connects (TLS with the context in `options`) and reads Metadata: the cluster id, or the
/// failure of the connection or of the request.
asio::awaitable<net::outcome<std::string>> cluster_id_via(std::string host, std::uint16_t port,
                                                          net::connection_options options) {
  auto ex = co_await asio::this_coro::executor;
  auto connected = co_await net::connect(ex, host, port, std::move(options));
  if (!connected) co_return connected.error();
  net::connection conn = std::move(connected).value();
  const msg::MetadataRequest request{};
  const auto md = co_await conn.send(request);
  co_await conn.close();
  if (!md) co_return md.error();
  co_return md.value()->cluster_id.value_or("");
}

net::outcome<std::string> try_cluster_id(const std::string& address, const TlsOptions& tls, bool check_hostname) {
  const HostPort target = split_host_port(address);
  net::connection_options options;
  options.ssl_context = create_ssl_context(tls);
  options.ssl_check_hostname = check_hostname;
  return run_async(cluster_id_via(target.host, target.port, std::move(options)), 30s);
}

std::string cluster_id(const std::string& address, const TlsOptions& tls, bool check_hostname = true) {
  return unwrap(try_cluster_id(address, tls, check_hostname));
}

/// The failure's message, or "" when the connection worked. A failed connection was never
/// sent anything.
std::string failure(const std::string& address, const TlsOptions& tls) {
  const auto result = try_cluster_id(address, tls, true);
  if (result) return {};
  EXPECT_EQ(result.error().sent, net::delivery::not_sent) << result.error().message;
  return result.error().message.empty() ? "(a failure without a message)" : result.error().message;
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
  // The context's required name is the context's: turning the connection's own check
  // (ssl_check_hostname) off does not lift it.
  const auto check_off = try_cluster_id(address, {.ca_file = rig.ca_file(), .server_name = "not-the-broker.example"}, false);
  ASSERT_FALSE(check_off) << "server_name was not required with ssl_check_hostname off";
  EXPECT_NE(check_off.error().message.find("hostname mismatch"), std::string::npos) << check_off.error().message;
}

TEST(TlsRealBroker, CheckHostnameOffAcceptsAnAddressTheCertificateDoesNotName) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // The broker's certificate names localhost and 127.0.0.1. The IPv4-mapped IPv6 address
  // reaches the same listener (127.0.0.1) but is a different address for the name check.
  const HostPort ssl = split_host_port(rig.node(1).listener("SSL"));
  ASSERT_EQ(ssl.host, "127.0.0.1");
  const std::string mapped = "[::ffff:127.0.0.1]:" + std::to_string(ssl.port);
  const auto checked = try_cluster_id(mapped, {.ca_file = rig.ca_file()}, true);
  ASSERT_FALSE(checked) << "the certificate was accepted for an address it does not name";
  EXPECT_NE(checked.error().message.find(mapped), std::string::npos) << checked.error().message;
  // Without the check the chain is still verified against the CA, and the connection works.
  EXPECT_EQ(cluster_id(mapped, {.ca_file = rig.ca_file()}, false), rig.get("CLUSTER_ID"));
}

TEST(TlsRealBroker, WrongCaFails) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string what = failure(rig.node(1).listener("SSL"), {.ca_pem = read_text(rig.get("OTHER_CA_FILE"))});
  ASSERT_FALSE(what.empty()) << "TLS verification passed with the wrong CA";
  EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
}

}  // namespace
}  // namespace asiokafka::test
