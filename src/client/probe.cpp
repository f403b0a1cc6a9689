// probe_broker (probe.hpp): a net::connection plus one Metadata request, under one deadline.
#include "asiokafka/probe.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "net/sansio/address.hpp"

namespace asiokafka {

namespace asio = boost::asio;
namespace msg = protocol::messages;

const ApiVersionRange* BrokerProbe::find(std::int16_t api_key) const noexcept {
  const auto it = std::find_if(api_versions.begin(), api_versions.end(),
                               [api_key](const ApiVersionRange& r) { return r.api_key == api_key; });
  return it == api_versions.end() ? nullptr : &*it;
}

namespace detail {
namespace {

asio::awaitable<op_error> connect_and_probe(BrokerAddress target, ProbeOptions options, BrokerProbe& result) {
  net::connection_options copts;
  copts.client_id = options.client_id;
  copts.connect_timeout = options.timeout;
  copts.request_timeout = options.timeout;
  copts.max_response_bytes = options.max_response_bytes;
  copts.ssl_context = options.ssl_context;
  copts.ssl_check_hostname = options.ssl_check_hostname;
  auto connected = co_await net::connect(co_await asio::this_coro::executor, target.host, target.port, copts);
  if (!connected) co_return op_error{connected.error().code, std::move(connected.error().message)};
  net::connection conn = std::move(connected).value();
  result.address = conn.address();
  result.api_versions_version =
      conn.version_for(msg::ApiVersionsRequest::api_key, 0, msg::ApiVersionsRequest::max_version);
  for (const auto& e : conn.broker_apis()) result.api_versions.push_back({e.api_key, e.min_version, e.max_version});
  if (options.read_metadata) {
    // v1 is the first version where an empty topic list means "no topics" (v0: all topics).
    net::typed_request<msg::MetadataRequest> request(msg::MetadataRequest(), 1, msg::MetadataRequest::max_version);
    if (net::failure f = co_await conn.send(request)) {
      co_await conn.close();
      co_return op_error{f.code, std::move(f.message)};
    }
    auto meta = request.take();
    result.metadata_version = meta.version;
    result.cluster_id = std::move(meta->cluster_id);
    result.controller_id = meta->controller_id;
    for (auto& b : meta->brokers) result.brokers.push_back({b.node_id, std::move(b.host), b.port, std::move(b.rack)});
  }
  co_await conn.close();
  co_return op_error{};
}

}  // namespace

asio::awaitable<op_error> probe(std::string address, ProbeOptions options, std::shared_ptr<BrokerProbe> out) {
  using namespace asio::experimental::awaitable_operators;
  std::string why;
  const auto target = net::parse_host_port(address, 9092, why);
  if (!target) co_return op_error{client_errc::invalid_config, "probe_broker: address '" + address + "' " + why};
  const auto timeout = options.timeout;
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  // `||` ends early only when an operand completes: the exchange returns its failure as a value.
  auto winner = co_await (connect_and_probe(*target, std::move(options), *out) || deadline.async_wait(asio::use_awaitable));
  if (winner.index() == 1) {
    co_return op_error{client_errc::timeout, address + ": no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  co_return std::get<0>(std::move(winner));
}

}  // namespace detail
}  // namespace asiokafka
