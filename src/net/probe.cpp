#include "asiokafka/probe.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/tls.hpp"
#include "asiokafka/version.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/api_versions.hpp"
#include "protocol/wire.hpp"

namespace asiokafka {
namespace {

namespace asio = boost::asio;
namespace proto = protocol;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

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

// Writes `frame_out` and reads the response frame; returns the body after the header.
template <class Stream>
asio::awaitable<proto::bytes> read_response(Stream& stream, const proto::bytes& frame_out, std::int16_t api_key,
                                            std::int16_t version, std::int32_t correlation_id,
                                            const ProbeOptions& options, const std::string& address) {
  co_await asio::async_write(stream, asio::buffer(frame_out), use_awaitable);
  std::array<std::uint8_t, 4> len{};
  co_await asio::async_read(stream, asio::buffer(len), use_awaitable);
  const auto size = static_cast<std::int32_t>(std::uint32_t{len[0]} << 24 | std::uint32_t{len[1]} << 16 |
                                              std::uint32_t{len[2]} << 8 | std::uint32_t{len[3]});
  if (size < 4) fail(client_errc::malformed, address + ": response frame of " + std::to_string(size) + " bytes");
  if (size > options.max_response_bytes) {
    fail(client_errc::frame_too_large, address + ": response frame of " + std::to_string(size) + " bytes");
  }
  proto::bytes frame(static_cast<std::size_t>(size));
  co_await asio::async_read(stream, asio::buffer(frame), use_awaitable);
  proto::Reader header(frame);
  const std::int32_t got = header.i32();
  if (proto::response_header_version(api_key, version) >= 1) header.skip_tagged_fields();
  if (!header.ok()) fail(header.error(), address + ": response header");
  if (got != correlation_id) {
    fail(client_errc::correlation_mismatch,
         address + ": expected correlation id " + std::to_string(correlation_id) + ", got " + std::to_string(got));
  }
  co_return proto::bytes(frame.end() - static_cast<std::ptrdiff_t>(header.remaining()), frame.end());
}

// Writes one request (body already encoded) and reads its response frame; returns the body
// after the response header.
template <class Stream>
asio::awaitable<proto::bytes> round_trip_raw(Stream& stream, std::int16_t api_key, std::int16_t version,
                                             const proto::bytes& body, std::int32_t correlation_id,
                                             const ProbeOptions& options, const std::string& address) {
  msg::RequestHeader header;
  header.request_api_key = api_key;
  header.request_api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = options.client_id;
  proto::bytes frame_out(4);
  if (auto ec = header.encode(frame_out, proto::request_header_version(api_key, version))) {
    fail(ec, address + ": encoding API " + std::to_string(api_key) + " v" + std::to_string(version));
  }
  frame_out.insert(frame_out.end(), body.begin(), body.end());
  proto::Writer(frame_out).patch_i32(0, static_cast<std::int32_t>(frame_out.size() - 4));
  co_return co_await read_response(stream, frame_out, api_key, version, correlation_id, options, address);
}

// Writes one request and reads its response frame; returns the body after the header.
template <class Stream, class Request>
asio::awaitable<proto::bytes> round_trip(Stream& stream, const Request& request, std::int16_t version,
                                         std::int32_t correlation_id, const ProbeOptions& options,
                                         const std::string& address) {
  proto::bytes body;
  if (auto ec = request.encode(body, version)) {
    fail(ec, address + ": encoding API " + std::to_string(Request::api_key) + " v" + std::to_string(version));
  }
  co_return co_await round_trip_raw(stream, Request::api_key, version, body, correlation_id, options, address);
}

// The highest version of `api_key` both sides implement, or -1.
std::int16_t common_version(const BrokerProbe& probe, std::int16_t api_key, std::int16_t lowest_useful) {
  const auto* ours = proto::find_api(api_key);
  const auto* theirs = probe.find(api_key);
  if (ours == nullptr || theirs == nullptr) return -1;
  const auto v = std::min(ours->max_version, theirs->max_version);
  return v < std::max({ours->min_version, theirs->min_version, lowest_useful}) ? std::int16_t{-1} : v;
}

template <class Stream>
asio::awaitable<BrokerProbe> run_probe(Stream& stream, const ProbeOptions& options, const std::string& address) {
  BrokerProbe result;
  result.address = address;
  std::int32_t correlation_id = 0;

  // The KIP-511 negotiation is shared with net::Connection (net/api_versions.hpp).
  net::api_versions_exchange exchange(software_name, version_string);
  for (;;) {
    // A named local: GCC 12 destroys a class-type temporary inside a co_await expression twice.
    const auto request_body = exchange.request_body();
    const auto body = co_await round_trip_raw(stream, msg::ApiVersionsRequest::api_key, exchange.version(),
                                              request_body, ++correlation_id, options, address);
    std::error_code ec;
    std::string what;
    const auto step = exchange.on_response(body, ec, what);
    if (step == net::api_versions_exchange::step::done) break;
    if (step == net::api_versions_exchange::step::failed) fail(ec, address + ": " + what);
  }
  const std::int16_t version = exchange.version();
  const auto& av = exchange.response();
  result.api_versions_version = version;
  for (const auto& e : av.api_keys) result.api_versions.push_back({e.api_key, e.min_version, e.max_version});

  if (!options.read_metadata) co_return result;
  // v1 is the first version where an empty topic list means "no topics" (v0: all topics).
  const std::int16_t md_version = common_version(result, msg::MetadataRequest::api_key, 1);
  if (md_version < 0) fail(client_errc::unsupported_version, address + ": no common Metadata version");
  result.metadata_version = md_version;
  msg::MetadataRequest md_request;  // topics: empty list
  md_request.allow_auto_topic_creation = md_version < 4;  // the field exists from v4; keep the default below
  const auto body = co_await round_trip(stream, md_request, md_version, ++correlation_id, options, address);
  msg::MetadataResponse meta;
  if (auto ec = meta.decode(body, md_version)) {
    fail(ec, address + ": Metadata v" + std::to_string(md_version) + " response");
  }
  result.cluster_id = std::move(meta.cluster_id);
  result.controller_id = meta.controller_id;
  for (auto& b : meta.brokers) result.brokers.push_back({b.node_id, std::move(b.host), b.port, std::move(b.rack)});
  co_return result;
}

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

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

asio::awaitable<BrokerProbe> connect_and_probe(HostPort hp, ProbeOptions options) {
  const std::string address = hp.host + ":" + hp.port;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(hp.host, hp.port, use_awaitable);
  tcp::socket socket(executor);
  co_await asio::async_connect(socket, endpoints, use_awaitable);
  socket.set_option(tcp::no_delay(true));
  BrokerProbe result;
  if (!options.tls) {
    result = co_await run_probe(socket, options, address);
  } else {
    const auto ctx = make_tls_context(*options.tls);
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *ctx);
    if (options.tls->verify_hostname) stream.set_verify_callback(asio::ssl::host_name_verification(hp.host));
    // SNI carries host names only (RFC 6066 forbids IP literals).
    if (!is_ip_literal(hp.host) && !SSL_set_tlsext_host_name(stream.native_handle(), hp.host.c_str())) {
      fail(std::error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()), address + ": SNI");
    }
    co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    result = co_await run_probe(stream, options, address);
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);  // a probe needs no TLS close_notify round trip
  }
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
