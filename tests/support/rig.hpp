// Access to the real Kafka broker(s) started by rig/kafkarig.py for the integration suites.
//
// The test command starts the rig and points ASIOKAFKA_RIG_ENV (single node) and
// ASIOKAFKA_RIG3_ENV (three nodes) at the rig.env files it wrote. Without them the tests that
// need a broker are skipped, unless ASIOKAFKA_REQUIRE_RIG=1 (as in CI), where they fail.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "asiokafka/tls.hpp"

namespace asiokafka::test {

/// One broker node of a running rig, with the controls fault tests need.
class RigNode {
 public:
  RigNode(const class Rig& rig, int id) : rig_(&rig), id_(id) {}
  int id() const noexcept { return id_; }
  /// host:port of one of this node's listeners (PLAINTEXT, SSL, MTLS, SASL_PLAINTEXT, ...).
  std::string listener(const std::string& name) const;
  /// The node's current process id (it changes when the node is restarted).
  int pid() const;

  void stop() const;    ///< SIGTERM, wait for a clean exit.
  void kill() const;    ///< SIGKILL, wait for the process to be gone.
  void start() const;   ///< Start again with the same config and data; returns once it answers.
  void pause() const;   ///< SIGSTOP: the process keeps its sockets but answers nothing.
  void resume() const;  ///< SIGCONT.

 private:
  void control(const std::string& action) const;
  const Rig* rig_;
  int id_;
};

/// A running rig described by its rig.env file.
class Rig {
 public:
  /// Reads the rig.env named by environment variable `env_var`; nullopt when unset.
  static std::optional<Rig> from_env(const char* env_var);
  explicit Rig(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

  /// A value from rig.env; throws when the key is missing.
  const std::string& get(const std::string& key) const;
  int node_count() const;
  RigNode node(int id) const { return RigNode(*this, id); }
  /// Comma-separated bootstrap list of one listener across all nodes.
  std::string bootstrap(const std::string& listener) const { return get("BOOTSTRAP_" + listener); }

  std::string ca_file() const { return get("CA_FILE"); }
  /// TLS options trusting the rig's CA (for create_ssl_context).
  TlsOptions tls() const { return TlsOptions{.ca_file = ca_file()}; }
  /// The same with the rig's client certificate (the MTLS listener).
  TlsOptions mutual_tls() const {
    return TlsOptions{.ca_file = ca_file(), .cert_file = get("CLIENT_CERT"), .key_file = get("CLIENT_KEY")};
  }

 private:
  std::map<std::string, std::string> vars_;
};

/// The single-node rig, or a skipped/failed test when there is none (see the file comment).
#define ASIOKAFKA_REQUIRE_RIG(var, env_name)                                        \
  auto var##_opt = ::asiokafka::test::Rig::from_env(env_name);                      \
  if (!var##_opt) {                                                                 \
    if (::asiokafka::test::rig_required()) FAIL() << env_name " is not set";        \
    GTEST_SKIP() << env_name " is not set: start the rig (see docs/rig.md)";        \
  }                                                                                 \
  const ::asiokafka::test::Rig& var = *var##_opt

bool rig_required();

/// "host:port" split into its parts with the library's own parser (the rig's listeners are
/// all host:port); throws std::invalid_argument for anything else.
using HostPort = BrokerAddress;
HostPort split_host_port(const std::string& address);

}  // namespace asiokafka::test
