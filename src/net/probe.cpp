#include "asiokafka/probe.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/tls.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"

namespace asiokafka {
namespace {

namespace asio = boost::asio;
using asio::use_awaitable;

[[noreturn]] void fail(std::error_code ec, const std::string& what) { throw std::system_error(ec, what); }

struct HostPort {
  std::string host;
  std::string port;
};

HostPort split_address(std::string_view address) {
  HostPort hp{std::string(address), "9092"};
  if (!address.empty() && address.front() == '[') {  // [v6]:port
    const auto close = address.find(']');
    if (close == std::string_view::npos) fail(client_errc::malformed, "bad address '" + std::string(address) + "'");
    hp.host = std::string(address.substr(1, close - 1));
    if (close + 1 < address.size() && address[close + 1] == ':') hp.port = std::string(address.substr(close + 2));
  } else if (const auto colon = address.rfind(':');
             colon != std::string_view::npos && address.find(':') == colon) {
    hp.host = std::string(address.substr(0, colon));
    hp.port = std::string(address.substr(colon + 1));
  }
  return hp;
}

namespace msg = protocol::messages;

// One TLS implementation for the whole library: ProbeTls is a subset of TlsOptions.
std::shared_ptr<asio::ssl::context> make_tls_context(const ProbeTls& tls) {
  TlsOptions options;
  options.ca_file = tls.ca_file;
  options.cert_file = tls.cert_file;
  options.key_file = tls.key_file;
  options.key_password = tls.key_password;
  options.verify_hostname = tls.verify_hostname;
  return create_ssl_context(options);
}

// The probe is a net::Connection (connect, TLS, ApiVersions negotiation) plus one Metadata
// request without topics.
asio::awaitable<BrokerProbe> connect_and_probe(HostPort hp, ProbeOptions options) {
  auto executor = co_await asio::this_coro::executor;
  net::ConnectionOptions copts;
  copts.client_id = options.client_id;
  copts.connect_timeout = options.timeout;
  copts.request_timeout = options.timeout;
  copts.max_response_bytes = static_cast<std::size_t>(options.max_response_bytes);
  if (options.tls) copts.tls = net::ConnectionTls{make_tls_context(*options.tls), options.tls->verify_hostname};
  std::uint16_t port = 0;
  const auto parsed = std::from_chars(hp.port.data(), hp.port.data() + hp.port.size(), port);
  if (parsed.ec != std::errc{} || parsed.ptr != hp.port.data() + hp.port.size()) {
    fail(client_errc::malformed, "bad port in '" + hp.host + ":" + hp.port + "'");
  }
  net::Connection conn = co_await net::connect(executor, hp.host, port, copts);

  BrokerProbe result;
  result.address = conn.address();
  result.api_versions_version = conn.version_for(msg::ApiVersionsRequest::api_key, msg::ApiVersionsRequest::max_version);
  for (const auto& e : conn.broker_apis()) result.api_versions.push_back({e.api_key, e.min_version, e.max_version});
  if (options.read_metadata) {
    // v1 is the first version where an empty topic list means "no topics" (v0: all topics).
    const std::int16_t md_version = conn.version_for(msg::MetadataRequest::api_key, msg::MetadataRequest::max_version);
    if (md_version < 1) fail(client_errc::unsupported_version, result.address + ": no common Metadata version");
    msg::MetadataRequest md_request;  // topics: empty list
    md_request.allow_auto_topic_creation = md_version < 4;  // the field exists from v4; keep the default below
    auto meta = co_await conn.send(md_request);
    result.metadata_version = meta.version;
    result.cluster_id = std::move(meta->cluster_id);
    result.controller_id = meta->controller_id;
    for (auto& b : meta->brokers) result.brokers.push_back({b.node_id, std::move(b.host), b.port, std::move(b.rack)});
  }
  co_await conn.close();
  co_return result;
}

// Runs the exchange and returns its failure as a value: `||` only ends early when an operand
// *succeeds*, so an error must not escape as an exception or the race would wait for the
// deadline.
asio::awaitable<std::pair<BrokerProbe, std::exception_ptr>> attempt(HostPort target, ProbeOptions options) {
  std::pair<BrokerProbe, std::exception_ptr> outcome;
  try {
    outcome.first = co_await connect_and_probe(std::move(target), std::move(options));
  } catch (...) {
    outcome.second = std::current_exception();
  }
  co_return outcome;
}

asio::awaitable<BrokerProbe> probe_with_deadline(HostPort hp, ProbeOptions options) {
  using namespace asio::experimental::awaitable_operators;
  const std::string name = hp.host + ":" + hp.port;
  const auto timeout = options.timeout;
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  auto winner = co_await (attempt(std::move(hp), std::move(options)) || deadline.async_wait(use_awaitable));
  if (winner.index() == 1) {
    fail(client_errc::timeout, name + ": no answer within " + std::to_string(timeout.count()) + " ms");
  }
  auto outcome = std::move(std::get<0>(winner));
  if (!outcome.second) co_return std::move(outcome.first);
  try {
    std::rethrow_exception(outcome.second);
  } catch (const std::system_error&) {
    throw;
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code(), name + ": " + e.what());
  }
}

}  // namespace

const ApiVersionRange* BrokerProbe::find(std::int16_t api_key) const noexcept {
  const auto it = std::find_if(api_versions.begin(), api_versions.end(),
                               [api_key](const ApiVersionRange& r) { return r.api_key == api_key; });
  return it == api_versions.end() ? nullptr : &*it;
}

// Not a coroutine itself: the address is parsed into owned strings before any suspension,
// so the caller's string_view need not outlive the first co_await.
asio::awaitable<BrokerProbe> probe_broker(std::string_view address, ProbeOptions options) {
  return probe_with_deadline(split_address(address), std::move(options));
}

asio::awaitable<BrokerProbe> probe_broker(std::string_view address) {
  return probe_with_deadline(split_address(address), ProbeOptions{});
}

}  // namespace asiokafka
