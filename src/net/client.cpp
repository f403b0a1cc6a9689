#include "asiokafka/client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/cluster.hpp"

namespace asiokafka {

namespace asio = boost::asio;

namespace {

[[noreturn]] void bad_config(const std::string& what) { throw std::system_error(client_errc::invalid_config, what); }

BootstrapAddress parse_entry(std::string_view entry) {
  const std::string original(entry);
  if (const auto scheme = entry.find("://"); scheme != std::string_view::npos) entry.remove_prefix(scheme + 3);
  BootstrapAddress out;
  std::string_view port_text;
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string_view::npos || close == 1) {
      bad_config("ClientConfig.bootstrap_servers: '" + original + "' is not host[:port] ('[' without ']')");
    }
    out.host = std::string(entry.substr(1, close - 1));
    const auto rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') bad_config("ClientConfig.bootstrap_servers: '" + original + "' is not host[:port]");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = entry.rfind(':');
    if (colon != std::string_view::npos && entry.find(':') == colon) {
      out.host = std::string(entry.substr(0, colon));
      port_text = entry.substr(colon + 1);
    } else {
      out.host = std::string(entry);  // no port, or a bare IPv6 literal
    }
  }
  if (out.host.empty()) bad_config("ClientConfig.bootstrap_servers: '" + original + "' has no host");
  if (port_text.data() != nullptr) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      bad_config("ClientConfig.bootstrap_servers: '" + original + "' has no valid port (1-65535)");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

std::string ms(std::chrono::milliseconds v) { return std::to_string(v.count()) + " ms"; }

}  // namespace

std::vector<BootstrapAddress> parse_bootstrap_servers(std::string_view list) {
  std::vector<BootstrapAddress> out;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ',' || std::isspace(static_cast<unsigned char>(list[i])) != 0)) ++i;
    std::size_t j = i;
    while (j < list.size() && list[j] != ',' && std::isspace(static_cast<unsigned char>(list[j])) == 0) ++j;
    if (j > i) {
      auto entry = parse_entry(list.substr(i, j - i));
      if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(std::move(entry));
    }
    i = j;
  }
  if (out.empty()) bad_config("ClientConfig.bootstrap_servers is empty (expected host[:port],...)");
  return out;
}

void validate(const ClientConfig& c) {
  (void)parse_bootstrap_servers(c.bootstrap_servers);
  auto positive = [](const char* name, std::chrono::milliseconds v) {
    if (v.count() <= 0) bad_config(std::string("ClientConfig.") + name + " must be > 0 (got " + ms(v) + ")");
  };
  auto non_negative = [](const char* name, std::chrono::milliseconds v) {
    if (v.count() < 0) bad_config(std::string("ClientConfig.") + name + " must be >= 0 (got " + ms(v) + ")");
  };
  positive("request_timeout", c.request_timeout);
  positive("connect_timeout", c.connect_timeout);
  positive("metadata_max_age", c.metadata_max_age);
  positive("connections_max_idle", c.connections_max_idle);
  non_negative("retry_backoff", c.retry_backoff);
  non_negative("reconnect_backoff", c.reconnect_backoff);
  non_negative("reconnect_backoff_max", c.reconnect_backoff_max);
  if (c.client_id.size() > 32767) bad_config("ClientConfig.client_id is longer than 32767 bytes");
  if (c.max_in_flight_requests_per_connection == 0) {
    bad_config("ClientConfig.max_in_flight_requests_per_connection must be >= 1");
  }
  if (c.max_response_bytes < 1024) bad_config("ClientConfig.max_response_bytes must be >= 1024");
  const bool sasl = c.security_protocol == SecurityProtocol::sasl_plaintext ||
                    c.security_protocol == SecurityProtocol::sasl_ssl;
  const bool tls = c.security_protocol == SecurityProtocol::ssl || c.security_protocol == SecurityProtocol::sasl_ssl;
  if (sasl && !c.sasl) {
    bad_config("ClientConfig.sasl must be set for security_protocol SASL_PLAINTEXT or SASL_SSL");
  }
  if (!sasl && c.sasl) {
    bad_config("ClientConfig.sasl is set but security_protocol is not SASL_PLAINTEXT or SASL_SSL");
  }
  if (!tls && c.ssl_context) {
    bad_config("ClientConfig.ssl_context is set but security_protocol is not SSL or SASL_SSL");
  }
}

ConnectionPurpose purpose_of(std::int16_t api_key) noexcept {
  switch (api_key) {
    case 0: return ConnectionPurpose::produce;  // Produce
    case 1: return ConnectionPurpose::fetch;    // Fetch
    case 8:                                     // OffsetCommit
    case 9:                                     // OffsetFetch
    case 11:                                    // JoinGroup
    case 12:                                    // Heartbeat
    case 13:                                    // LeaveGroup
    case 14:                                    // SyncGroup
    case 28:                                    // TxnOffsetCommit
    case 68:                                    // ConsumerGroupHeartbeat
      return ConnectionPurpose::group;
    default: return ConnectionPurpose::other;
  }
}

const BrokerMetadata* ClusterMetadata::broker(std::int32_t node_id) const& noexcept {
  for (const auto& b : brokers) {
    if (b.node_id == node_id) return &b;
  }
  return nullptr;
}

const TopicMetadata* ClusterMetadata::topic(std::string_view name) const& noexcept {
  for (const auto& t : topics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace detail {

asio::awaitable<void> client_call(const std::shared_ptr<net::Cluster>& cluster, const route& where,
                                  request_base& request) {
  if (!cluster) throw std::system_error(client_errc::client_closed, "send on a moved-from Client");
  const auto ex = co_await asio::this_coro::executor;
  auto op = cluster->call(where, request);
  if (ex == cluster->executor()) {
    co_await std::move(op);
  } else {
    co_await asio::co_spawn(cluster->executor(), std::move(op), asio::use_awaitable);
  }
}

}  // namespace detail

namespace {

// Runs `op` on the cluster's executor (directly when already there).
template <class T>
asio::awaitable<T> on_cluster(net::Cluster& cluster, asio::awaitable<T>& op) {
  const auto ex = co_await asio::this_coro::executor;
  if (ex == cluster.executor()) co_return co_await std::move(op);
  co_return co_await asio::co_spawn(cluster.executor(), std::move(op), asio::use_awaitable);
}

net::Cluster& checked(const std::shared_ptr<net::Cluster>& c) {
  if (!c) throw std::system_error(client_errc::client_closed, "a moved-from Client");
  return *c;
}

asio::awaitable<BrokerMetadata> lookup_coordinator(std::shared_ptr<net::Cluster> cluster, CoordinatorType type,
                                                   std::string key) {
  const auto info = co_await cluster->coordinator(static_cast<net::coordinator_type>(static_cast<std::int8_t>(type)), key);
  BrokerMetadata out;
  out.node_id = info.node_id;
  out.host = info.host;
  out.port = info.port;
  if (const auto* b = cluster->metadata().broker(info.node_id)) out.rack = b->rack;
  co_return out;
}

asio::awaitable<void> refresh_topics(std::shared_ptr<net::Cluster> cluster, std::vector<std::string> topics,
                                     bool wait_for_leaders) {
  co_await cluster->refresh(topics, wait_for_leaders);
}

}  // namespace

Client::Client(asio::any_io_executor executor, ClientConfig config) {
  validate(config);
  cluster_ = std::make_shared<net::Cluster>(std::move(executor), std::move(config));
}

Client::~Client() {
  if (cluster_) cluster_->shutdown_now();
}

Client::Client(Client&&) noexcept = default;

Client& Client::operator=(Client&& o) noexcept {
  if (this != &o) {
    if (cluster_) cluster_->shutdown_now();
    cluster_ = std::move(o.cluster_);
  }
  return *this;
}

asio::awaitable<void> Client::start() {
  const auto cluster = cluster_;
  net::Cluster& c = checked(cluster);
  auto op = c.start();
  co_await on_cluster(c, op);
}

asio::awaitable<void> Client::close() {
  const auto cluster = cluster_;
  if (!cluster) co_return;
  auto op = cluster->close();
  co_await on_cluster(*cluster, op);
}

asio::awaitable<void> Client::refresh_metadata() {
  const auto cluster = cluster_;
  net::Cluster& c = checked(cluster);
  auto op = refresh_topics(cluster, {}, false);
  co_await on_cluster(c, op);
}

asio::awaitable<void> Client::refresh_metadata(std::span<const std::string> topics) {
  const auto cluster = cluster_;
  net::Cluster& c = checked(cluster);
  std::vector<std::string> names(topics.begin(), topics.end());
  auto op = refresh_topics(cluster, std::move(names), true);
  co_await on_cluster(c, op);
}

asio::awaitable<BrokerMetadata> Client::find_coordinator(CoordinatorType type, std::string_view key) {
  const auto cluster = cluster_;
  net::Cluster& c = checked(cluster);
  auto op = lookup_coordinator(cluster, type, std::string(key));
  co_return co_await on_cluster(c, op);
}

void Client::invalidate_leader(std::string_view topic, std::int32_t partition, std::error_code reason) {
  checked(cluster_).invalidate_leader(topic, partition, reason);
}

void Client::invalidate_coordinator(CoordinatorType type, std::string_view key) {
  checked(cluster_).invalidate_coordinator(static_cast<net::coordinator_type>(static_cast<std::int8_t>(type)), key);
}

ClusterMetadata Client::metadata() const {
  const net::metadata_cache& m = checked(cluster_).metadata();
  ClusterMetadata out;
  out.cluster_id = m.cluster_id();
  out.controller_id = m.controller_id();
  for (const auto& b : m.brokers()) {
    out.brokers.push_back(BrokerMetadata{.node_id = b.id, .host = b.host, .port = b.port, .rack = b.rack});
  }
  for (const auto& name : m.topic_names()) {
    const net::topic_info* t = m.topic(name);
    TopicMetadata topic{.name = t->name, .topic_id = t->topic_id, .is_internal = t->is_internal, .error = t->error};
    for (const auto& p : t->partitions) {
      topic.partitions.push_back(PartitionMetadata{.partition = p.partition,
                                                   .leader = p.leader_id,
                                                   .leader_epoch = p.leader_epoch,
                                                   .replicas = p.replicas,
                                                   .isr = p.isr,
                                                   .offline_replicas = p.offline_replicas,
                                                   .error = p.error});
    }
    out.topics.push_back(std::move(topic));
  }
  return out;
}

std::vector<ConnectionInfo> Client::connections() const { return checked(cluster_).connections(); }

const ClientConfig& Client::config() const { return checked(cluster_).config(); }

asio::any_io_executor Client::get_executor() const { return checked(cluster_).executor(); }

}  // namespace asiokafka
