// asiokafka::Client: the low-level cluster client the Producer, Consumer and Admin are built on.
// It bootstraps from a list of brokers, keeps the cluster metadata fresh, keeps one pipelined
// connection per broker and purpose, and routes any request the codec knows to a broker, a
// partition's leader, a group or transaction coordinator, or the controller. See docs/client.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include "asiokafka/async.hpp"
#include "asiokafka/config.hpp"
#include "asiokafka/detail/request.hpp"
#include "asiokafka/metadata.hpp"
#include "asiokafka/response.hpp"

namespace asiokafka {

namespace net {
class cluster;
}

namespace detail {
// The operations, compiled in the library (client.cpp); each runs on the client's executor.
boost::asio::awaitable<op_error> client_start(std::shared_ptr<net::cluster> cluster);
boost::asio::awaitable<op_error> client_close(std::shared_ptr<net::cluster> cluster);
boost::asio::awaitable<op_error> client_call(std::shared_ptr<net::cluster> cluster, route where,
                                            std::shared_ptr<request_base> request);
boost::asio::awaitable<op_error> client_refresh(std::shared_ptr<net::cluster> cluster, std::vector<std::string> topics,
                                               bool wait_for_leaders);
boost::asio::awaitable<op_error> client_find_coordinator(std::shared_ptr<net::cluster> cluster, CoordinatorType type,
                                                        std::string key, std::shared_ptr<BrokerMetadata> out);
}  // namespace detail

/// The low-level client. Runs on the executor given at construction (use a strand with a
/// multi-threaded io_context). Its asynchronous operations follow Asio's conventions: each
/// takes a completion token, by default `co_await` (which throws asiokafka::error, a
/// std::system_error with the code and a message naming the broker and the API); with
/// `asio::as_tuple(asio::use_awaitable)`, a callback, `asio::use_future` or `asio::deferred`
/// the handler gets `(error_code, value)`. Arguments are copied when the operation is
/// initiated, so temporaries and views may be passed. The operations may be started from any
/// thread or executor: they run on the client's and complete on the caller's. Cancellation
/// (the handler's cancellation slot) ends one operation with operation_aborted and leaves the
/// connection and other operations alone. The synchronous accessors must be called on the
/// client's executor.
///
/// Errors: Kafka error codes (kafka_errc) for broker errors, client_errc for the client's own
/// (timeout, connection_failed, connection_lost, client_closed, ...).
class Client {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Validates `config` (throws asiokafka::error with client_errc::invalid_config). Nothing
  /// connects before start().
  Client(executor_type executor, ClientConfig config);
  /// Without close(): fails requests in flight with client_errc::client_closed and closes the
  /// connections at once; background tasks end on their next turn of the executor.
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  executor_type get_executor() const noexcept { return executor_; }

  /// Connects to the bootstrap addresses in order until one answers a Metadata request, then
  /// starts the background metadata refresh. Fails with client_errc::connection_failed naming
  /// every address tried and why each failed, or with the authentication / TLS error.
  template <boost::asio::completion_token_for<void(error_code)> Token = default_token_t>
  auto start(Token&& token = default_token_t{}) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [cluster = cluster_, ex = executor_](auto handler) {
          detail::launch(ex, detail::client_start(cluster), std::move(handler), [] {});
        },
        token);
  }

  /// Stops the background tasks, fails requests in flight with client_errc::client_closed,
  /// closes every connection and waits until all of it has ended. Idempotent.
  template <boost::asio::completion_token_for<void(error_code)> Token = default_token_t>
  auto close(Token&& token = default_token_t{}) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [cluster = cluster_, ex = executor_](auto handler) {
          detail::launch(ex, detail::client_close(cluster), std::move(handler), [] {});
        },
        token);
  }

  /// Sends to the least-loaded broker (fewest requests in flight, connected ones first).
  template <class Request, boost::asio::completion_token_for<void(error_code, response<typename Request::response_type>)>
                               Token = default_token_t>
  auto send(Request request, Token&& token = default_token_t{}) {
    return send_routed(detail::route{}, std::move(request), std::forward<Token>(token));
  }
  /// Sends to broker `node_id`.
  template <class Request, boost::asio::completion_token_for<void(error_code, response<typename Request::response_type>)>
                               Token = default_token_t>
  auto send_to(std::int32_t node_id, Request request, Token&& token = default_token_t{}) {
    detail::route where;
    where.target = detail::route::kind::node;
    where.node_id = node_id;
    return send_routed(std::move(where), std::move(request), std::forward<Token>(token));
  }
  /// Sends to the leader of a partition, waiting for metadata when the leader is unknown
  /// (bounded by request_timeout). A routing error inside the response is the caller's to
  /// report with invalidate_leader(); a lost connection invalidates it here.
  template <class Request, boost::asio::completion_token_for<void(error_code, response<typename Request::response_type>)>
                               Token = default_token_t>
  auto send_to_leader(std::string_view topic, std::int32_t partition, Request request,
                      Token&& token = default_token_t{}) {
    detail::route where;
    where.target = detail::route::kind::leader;
    where.name = std::string(topic);
    where.partition = partition;
    return send_routed(std::move(where), std::move(request), std::forward<Token>(token));
  }
  /// Sends to the coordinator of `key` (found with FindCoordinator and cached). A top-level
  /// NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS answer, or a
  /// coordinator that could not be reached at all, makes the client look the coordinator up
  /// again and resend, retry_backoff apart, within request_timeout; then the last answer or
  /// error is the result.
  template <class Request, boost::asio::completion_token_for<void(error_code, response<typename Request::response_type>)>
                               Token = default_token_t>
  auto send_to_coordinator(CoordinatorType type, std::string_view key, Request request,
                           Token&& token = default_token_t{}) {
    detail::route where;
    where.target = detail::route::kind::coordinator;
    where.name = std::string(key);
    where.coordinator = type;
    return send_routed(std::move(where), std::move(request), std::forward<Token>(token));
  }
  /// Sends to the active controller as the metadata names it (admin requests); resent once
  /// after a refresh when the answer is NOT_CONTROLLER.
  template <class Request, boost::asio::completion_token_for<void(error_code, response<typename Request::response_type>)>
                               Token = default_token_t>
  auto send_to_controller(Request request, Token&& token = default_token_t{}) {
    detail::route where;
    where.target = detail::route::kind::controller;
    return send_routed(std::move(where), std::move(request), std::forward<Token>(token));
  }

  /// Waits for fresh metadata (any refresh that starts after this call).
  template <boost::asio::completion_token_for<void(error_code)> Token = default_token_t>
  auto refresh_metadata(Token&& token = default_token_t{}) {
    return refresh(std::vector<std::string>(), false, std::forward<Token>(token));
  }
  /// Adds `topics` to the metadata the client keeps and waits until each is known with a
  /// leader for every partition (topic auto-creation included), or request_timeout passes
  /// (client_errc::timeout). A final topic error (e.g. TOPIC_AUTHORIZATION_FAILED) is the
  /// result.
  template <boost::asio::completion_token_for<void(error_code)> Token = default_token_t>
  auto refresh_metadata(std::span<const std::string> topics, Token&& token = default_token_t{}) {
    return refresh(std::vector<std::string>(topics.begin(), topics.end()), true, std::forward<Token>(token));
  }
  /// The coordinator of `key`, from the cache or FindCoordinator (retried within
  /// request_timeout while the broker answers COORDINATOR_NOT_AVAILABLE).
  template <boost::asio::completion_token_for<void(error_code, BrokerMetadata)> Token = default_token_t>
  auto find_coordinator(CoordinatorType type, std::string_view key, Token&& token = default_token_t{}) {
    return boost::asio::async_initiate<Token, void(error_code, BrokerMetadata)>(
        [cluster = cluster_, ex = executor_](auto handler, CoordinatorType t, std::string k) {
          auto out = std::make_shared<BrokerMetadata>();
          detail::launch(ex, detail::client_find_coordinator(cluster, t, std::move(k), out), std::move(handler),
                         [out] { return std::move(*out); });
        },
        token, type, std::string(key));
  }

  /// A routing error for a partition (NOT_LEADER_OR_FOLLOWER, ...): forgets its leader when
  /// the error says so and schedules an early metadata refresh.
  void invalidate_leader(std::string_view topic, std::int32_t partition, std::error_code reason);
  /// Forgets a cached coordinator.
  void invalidate_coordinator(CoordinatorType type, std::string_view key);

  /// A copy of the metadata.
  ClusterMetadata metadata() const;
  /// The connections held now.
  std::vector<ConnectionInfo> connections() const;
  /// Throws asiokafka::error(client_errc::client_closed) on a moved-from Client.
  const ClientConfig& config() const;

 private:
  template <class Request, class Token>
  auto send_routed(detail::route where, Request request, Token&& token) {
    using result_type = response<typename Request::response_type>;
    return boost::asio::async_initiate<Token, void(error_code, result_type)>(
        [cluster = cluster_, ex = executor_](auto handler, detail::route w, Request r) {
          auto typed = std::make_shared<detail::typed_request<Request>>(std::move(r));
          detail::launch(ex, detail::client_call(cluster, std::move(w), typed), std::move(handler),
                         [typed] { return typed->take(); });
        },
        token, std::move(where), std::move(request));
  }

  template <class Token>
  auto refresh(std::vector<std::string> topics, bool wait_for_leaders, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [cluster = cluster_, ex = executor_](auto handler, std::vector<std::string> t, bool wait) {
          detail::launch(ex, detail::client_refresh(cluster, std::move(t), wait), std::move(handler), [] {});
        },
        token, std::move(topics), wait_for_leaders);
  }

  executor_type executor_;
  std::shared_ptr<net::cluster> cluster_;
};

}  // namespace asiokafka
