// The Admin's internals shared by its operation families (src/admin/*.cpp): the state behind
// the public facade, the start of an operation (deadline, started check) and the call that
// retries what is retriable within the operation's deadline. See docs/design.md, "Admin".
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/detail/request.hpp"
#include "asiokafka/kafka_error.hpp"
#include "net/cluster.hpp"
#include "net/notifier.hpp"
#include "net/sansio/failure.hpp"

namespace asiokafka::detail {

struct admin_state {
  std::shared_ptr<net::cluster> cluster;
  AdminConfig config;
};

}  // namespace asiokafka::detail

namespace asiokafka::admin {

using clock = net::clock;

/// One running operation: its cluster, name (for messages) and deadline.
struct op_context {
  std::shared_ptr<net::cluster> cluster;
  const AdminConfig* config = nullptr;
  std::string name;
  clock::time_point deadline;
  /// The last retriable failure, for the timeout's message.
  std::string last_failure;

  /// The time left, at least 1 ms (a request is never sent with a zero timeout).
  std::chrono::milliseconds remaining() const;
  /// A request's own bound: the time left, at most request_timeout.
  std::chrono::milliseconds request_bound() const;
  bool expired() const { return clock::now() >= deadline; }
  /// client_errc::timeout naming the operation and the last retriable failure.
  net::failure timeout_failure() const;
  /// Why retrying stopped: cancelled (operation_aborted), or else out of time.
  net::failure stop_failure() const;
  bool cancelled = false;
};

/// Starts operation `name`: the admin must be started and open; the deadline comes from the
/// options (zero: default_api_timeout).
net::outcome<op_context> begin(const std::shared_ptr<detail::admin_state>& state, std::chrono::milliseconds timeout,
                               std::string name);

detail::op_error to_op_error(net::failure f);

/// Whether a request that may have reached the broker may be sent again: `safe` for reads
/// (describe, list), `once` for changes (create, delete, alter), which are resent only when
/// they surely did not leave the client.
enum class repeat { safe, once };

/// Waits retry_backoff; false when no attempt fits before the deadline any more or the wait
/// was cancelled (ctx.stop_failure() then says which).
boost::asio::awaitable<bool> backoff(op_context& ctx);

/// Whether a failure (transport or a broker's top-level error) is worth another attempt.
bool retriable_failure(const net::failure& f, repeat r);

/// Whether a failure ends the whole operation (the admin closed, the operation cancelled)
/// rather than only the items it concerned.
bool ends_operation(const net::failure& f);

/// "NAME: message" for a Kafka error code and the broker's optional message.
std::string describe_kafka_error(std::error_code ec, const std::optional<std::string>& broker_message);

/// An item's outcome from its error code and the broker's message, naming the item ("topic
/// 'x'"); success leaves `item` untouched.
void set_item_error(AdminItemResult& item, std::int16_t code, const std::optional<std::string>& broker_message,
                    const std::string& what);
void set_item_error(AdminItemResult& item, std::error_code ec, std::string message, const std::string& what);

/// Sends `request` along `where`; a transport failure or a retriable top-level error is
/// retried, retry_backoff apart, until the deadline (a change is resent only when it surely
/// did not reach the broker). A final top-level error in the answer becomes the failure, with
/// the broker's error_message when the response has one.
template <class Request>
boost::asio::awaitable<net::failure> call(op_context& ctx, detail::route where, detail::typed_request<Request>& request,
                                         repeat r) {
  for (;;) {
    net::request_options options;
    options.timeout = ctx.request_bound();
    net::failure f = co_await ctx.cluster->call(where, request, options);
    if (!f) {
      const std::int16_t top = request.top_level_error();
      if (top == 0) co_return net::failure{};
      std::optional<std::string> broker_message;
      if constexpr (requires { request.message().error_message; }) broker_message = request.message().error_message;
      f = net::failure(make_kafka_error(top), ctx.name + ": " + describe_kafka_error(make_kafka_error(top), broker_message),
                       net::delivery::maybe_sent);
    } else {
      f.prefix(ctx.name);
    }
    if (!retriable_failure(f, r) || ctx.cluster->closed()) co_return f;
    ctx.last_failure = f.message;
    const bool again = co_await backoff(ctx);  // named: see docs/design.md, "GCC 12"
    if (!again) co_return ctx.stop_failure();
  }
}

/// Sends a copy of `request` to every broker of the cluster, one after another, in versions
/// from `min_version`, and hands each answer's message to `visit` (ListGroups,
/// ListTransactions: each broker answers for what it coordinates). The metadata is refreshed
/// first when it names no broker. The first failure ends it, naming the broker.
template <class Request, class Visit>
boost::asio::awaitable<net::failure> ask_every_broker(op_context& ctx, const Request& request, std::int16_t min_version,
                                                     Visit& visit) {
  if (ctx.cluster->metadata().cache().brokers().empty()) {
    net::failure f = co_await ctx.cluster->metadata().refresh(std::vector<std::string>(), false, ctx.deadline);
    if (f) co_return f.prefix(ctx.name);
  }
  std::vector<std::int32_t> nodes;
  for (const auto& b : ctx.cluster->metadata().cache().brokers()) nodes.push_back(b.node_id);
  for (const std::int32_t node : nodes) {
    detail::typed_request<Request> call(request, min_version, Request::max_version);
    detail::route where;
    where.target = detail::route::kind::node;
    where.node_id = node;
    net::failure f = co_await admin::call(ctx, where, call, repeat::safe);
    if (f) co_return f.prefix("broker " + std::to_string(node));
    visit(call.message());
  }
  co_return net::failure{};
}

}  // namespace asiokafka::admin
