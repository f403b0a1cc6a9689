// net::cluster: what a client talks to. It owns the connection pool, the metadata service and
// the coordinator service, wires their events together (a broken connection makes metadata
// urgent and forgets the coordinators on that broker), bootstraps, and routes a request to any
// broker, a node, a partition's leader, a coordinator or the controller, with the retries that
// are safe to do without knowing what the request is (see docs/design.md, "Cluster").
//
// Threading: everything runs on executor(); nothing is locked. The facades hop there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/detail/request.hpp"
#include "net/connection_pool.hpp"
#include "net/coordinator_service.hpp"
#include "net/metadata_service.hpp"

namespace asiokafka::net {



class cluster : public std::enable_shared_from_this<cluster> {
 public:
  /// `config` must be valid (validate()). Nothing connects before start().
  static std::shared_ptr<cluster> create(boost::asio::any_io_executor executor, ClientConfig config);
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// Tries the bootstrap addresses in order until one answers a Metadata request, then starts
  /// the background tasks. Transport failures are collected into one connection_failed naming
  /// every address; an authentication or TLS failure ends it at once with its own error.
  boost::asio::awaitable<failure> start();
  /// Stops everything, fails what is pending (client_closed), waits until all has ended.
  boost::asio::awaitable<void> close();
  /// The same without waiting: tasks end on their next turn of the executor.
  void shutdown_now();

  /// Routes `request` (see route), connects, sends and decodes into it. The request must
  /// outlive the awaitable. The failure says whether it may have reached a broker.
  boost::asio::awaitable<failure> call(route where, request_base& request, request_options options = {});
  /// Straight to the connection of (node, purpose): the seam for the producer and consumer,
  /// who know their broker. Call order is write order per (node, purpose), from the moment
  /// of the call (see connection_pool::send).
  boost::asio::awaitable<failure> send_to_node(std::int32_t node, ConnectionPurpose purpose, request_base& request,
                                               request_options options = {});

  metadata_service& metadata() noexcept { return metadata_; }
  coordinator_service& coordinators() noexcept { return coordinators_; }
  connection_pool& pool() noexcept { return pool_; }
  const ClientConfig& config() const noexcept { return config_; }
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  bool started() const noexcept { return started_; }
  bool closed() const noexcept { return closed_; }

 private:
  cluster(boost::asio::any_io_executor executor, ClientConfig config);

  boost::asio::awaitable<failure> send_any(request_base& request, request_options options);
  boost::asio::awaitable<failure> call_leader(const route& where, request_base& request, request_options options);
  boost::asio::awaitable<failure> call_coordinator(const route& where, request_base& request,
                                                   request_options options);
  boost::asio::awaitable<failure> call_controller(request_base& request, request_options options);
  std::optional<BrokerAddress> address_of(std::int32_t node) const;
  /// The least-loaded usable broker, or a bootstrap address when none is (KIP-899's
  /// rebootstrap); nullopt when there is nothing at all.
  std::optional<std::int32_t> pick_any_node();
  failure closed_failure(std::string what) const;

  boost::asio::any_io_executor executor_;
  ClientConfig config_;
  std::vector<BrokerAddress> bootstrap_;
  connection_pool pool_;
  metadata_service metadata_;
  coordinator_service coordinators_;
  event_source<broker_failure>::subscription on_broker_failure_;
  std::size_t rotation_ = 0;
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace asiokafka::net
