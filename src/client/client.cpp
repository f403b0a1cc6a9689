// asiokafka::Client (client.hpp): the public facade over net::cluster. Its operations are
// Asio initiating functions in the header; the coroutines they launch are here.
#include "asiokafka/client.hpp"

#include "net/cluster.hpp"

namespace asiokafka {

namespace asio = boost::asio;

namespace detail {
namespace {

op_error moved_from() { return {client_errc::client_closed, "an operation on a moved-from Client"}; }

op_error to_op_error(net::failure f) { return {f.code, std::move(f.message)}; }

}  // namespace

asio::awaitable<op_error> client_start(std::shared_ptr<net::cluster> cluster) {
  if (!cluster) co_return moved_from();
  co_return to_op_error(co_await cluster->start());
}

asio::awaitable<op_error> client_close(std::shared_ptr<net::cluster> cluster) {
  if (cluster) co_await cluster->close();
  co_return op_error{};
}

asio::awaitable<op_error> client_call(std::shared_ptr<net::cluster> cluster, route where,
                                      std::shared_ptr<request_base> request) {
  if (!cluster) co_return moved_from();
  co_return to_op_error(co_await cluster->call(std::move(where), *request));
}

asio::awaitable<op_error> client_refresh(std::shared_ptr<net::cluster> cluster, std::vector<std::string> topics,
                                         bool wait_for_leaders) {
  if (!cluster) co_return moved_from();
  if (cluster->closed() || !cluster->started()) {
    co_return op_error{client_errc::client_closed, "metadata refresh: the client is not started or closed"};
  }
  const auto deadline = net::clock::now() + cluster->config().request_timeout;
  for (const auto& t : topics) cluster->metadata().track(t);
  co_return to_op_error(co_await cluster->metadata().refresh(std::move(topics), wait_for_leaders, deadline));
}

asio::awaitable<op_error> client_find_coordinator(std::shared_ptr<net::cluster> cluster, CoordinatorType type,
                                                  std::string key, std::shared_ptr<BrokerMetadata> out) {
  if (!cluster) co_return moved_from();
  if (cluster->closed() || !cluster->started()) {
    co_return op_error{client_errc::client_closed, "find_coordinator: the client is not started or closed"};
  }
  const auto deadline = net::clock::now() + cluster->config().request_timeout;
  net::outcome<BrokerMetadata> found = co_await cluster->coordinators().find(type, std::move(key), deadline);
  if (!found) co_return to_op_error(std::move(found.error()));
  *out = std::move(found).value();
  if (const BrokerMetadata* b = cluster->metadata().cache().broker(out->node_id)) out->rack = b->rack;
  co_return op_error{};
}

}  // namespace detail

namespace {

net::cluster& checked(const std::shared_ptr<net::cluster>& c) {
  if (!c) throw error(client_errc::client_closed, "a moved-from Client");
  return *c;
}

}  // namespace

Client::Client(executor_type executor, ClientConfig config) : executor_(std::move(executor)) {
  validate(config);
  cluster_ = net::cluster::create(executor_, std::move(config));
}

Client::~Client() {
  if (cluster_) cluster_->shutdown_now();
}

// The executor is copied, not moved: a moved-from Client still has one (get_executor() is
// noexcept and its operations complete there with client_closed).
Client::Client(Client&& other) noexcept : executor_(other.executor_), cluster_(std::move(other.cluster_)) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    if (cluster_) cluster_->shutdown_now();
    executor_ = other.executor_;
    cluster_ = std::move(other.cluster_);
  }
  return *this;
}

void Client::invalidate_leader(std::string_view topic, std::int32_t partition, std::error_code reason) {
  checked(cluster_).metadata().invalidate(topic, partition, reason);
}

void Client::invalidate_coordinator(CoordinatorType type, std::string_view key) {
  checked(cluster_).coordinators().invalidate(type, std::string(key));
}

ClusterMetadata Client::metadata() const {
  const net::metadata_cache& m = checked(cluster_).metadata().cache();
  ClusterMetadata out;
  out.cluster_id = m.cluster_id();
  out.controller_id = m.controller_id();
  out.brokers.assign(m.brokers().begin(), m.brokers().end());
  for (const auto& name : m.topic_names()) out.topics.push_back(*m.topic(name));
  return out;
}

std::vector<ConnectionInfo> Client::connections() const { return checked(cluster_).pool().connections(); }

const ClientConfig& Client::config() const { return checked(cluster_).config(); }

}  // namespace asiokafka
