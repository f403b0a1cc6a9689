// net::connect and the steps of a connection's handshake: resolve and TCP, TLS, ApiVersions
// (KIP-511), SASL with an awaitable OAUTHBEARER token provider, and KIP-368 re-authentication.
// Every step returns a failure value; Asio errors are turned into them here.
#include <exception>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages/api_versions.hpp"
#include "net/connection_state.hpp"
#include "net/sasl_config.hpp"
#include "net/sansio/address.hpp"
#include "net/sansio/api_versions.hpp"
#include "net/sansio/sasl/authenticator.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace impl {
namespace {

std::string endpoint_string(const tcp::endpoint& ep) {
  return format_address(ep.address().to_string(), ep.port());
}

/// An Asio error as the library's: std::error_code (Boost.System keeps the category).
std::error_code to_std(const boost::system::error_code& ec) { return ec; }

}  // namespace

asio::awaitable<failure> connection_state::connect_tcp() {
  phase = "resolving";
  tcp::resolver resolver(executor);
  boost::system::error_code ec;
  const auto endpoints =
      co_await resolver.async_resolve(host, std::to_string(port), asio::redirect_error(use_awaitable, ec));
  if (ec) co_return failure(client_errc::connection_failed, address + ": cannot resolve: " + ec.message());
  phase = "connecting";
  std::string tried;
  for (const auto& entry : endpoints) {
    const tcp::endpoint ep = entry.endpoint();
    boost::system::error_code ignored;
    socket.close(ignored);
    ec = {};
    co_await socket.async_connect(ep, asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ignored);
      co_return failure{};
    }
    tried += (tried.empty() ? "" : "; ") + endpoint_string(ep) + ": " + ec.message();
  }
  co_return failure(client_errc::connection_failed, address + ": could not connect (" + tried + ")");
}

asio::awaitable<failure> connection_state::handshake_tls() {
  phase = "TLS handshake";
  tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), *options.ssl_context);
  // SNI carries host names only (RFC 6066 forbids IP literals).
  if (!is_ip_literal(host) && SSL_set_tlsext_host_name(tls->native_handle(), host.c_str()) != 1) {
    co_return failure(std::error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()),
                      address + ": setting SNI");
  }
  if (options.ssl_check_hostname) {
    tls->set_verify_mode(asio::ssl::verify_peer);
    tls->set_verify_callback(asio::ssl::host_name_verification(host));
  }
  boost::system::error_code ec;
  co_await tls->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    std::string detail = ec.message();
    const long verify = SSL_get_verify_result(tls->native_handle());
    if (verify != X509_V_OK) {
      detail += std::string(" (certificate verification: ") + X509_verify_cert_error_string(verify) + ")";
    }
    co_return failure(to_std(ec), address + ": TLS handshake failed: " + detail);
  }
  co_return failure{};
}

asio::awaitable<failure> connection_state::negotiate_api_versions() {
  phase = "ApiVersions";
  api_versions_exchange exchange(options.software_name, options.software_version);
  // At most two rounds: the exchange falls back once (KIP-511) and then ends.
  for (;;) {
    raw_request request(protocol::messages::ApiVersionsRequest::api_key, exchange.version(), exchange.request_body());
    auto c = submit_handshake(request, exchange.version(), clock::now() + options.request_timeout);
    if (failure f = co_await wait(std::move(c))) co_return f;
    std::error_code ec;
    std::string what;
    const auto step = exchange.on_response(request.answer.bytes(), ec, what);
    if (step == api_versions_exchange::step::done) break;
    if (step == api_versions_exchange::step::failed) co_return failure(ec, address + ": " + what);
  }
  broker_apis = exchange.response().api_keys;
  co_return failure{};
}

namespace {

// Runs the awaitable token provider as its own coroutine and waits for it at most
// connect_timeout. On timeout (or when the connection fails) the provider is cancelled but not
// waited for, so a provider that ignores cancellation cannot hold the connection.
asio::awaitable<outcome<std::string>> fetch_token(connection_state& s) {
  s.phase = "OAUTHBEARER token provider";
  struct token_wait {
    explicit token_wait(const asio::any_io_executor& ex) : signal(ex, time_point::max()) {}
    asio::steady_timer signal;         // cancelled when the provider completes
    asio::cancellation_signal cancel;  // emitted when the wait gives up
    bool done = false;
    std::string token;
    std::exception_ptr error;
  };
  const auto w = std::make_shared<token_wait>(s.executor);
  w->signal.expires_after(s.options.connect_timeout);
  try {
    // A copy of the provider lives until its coroutine completes: a coroutine lambda reads its
    // captures through the lambda object, which must outlive a provider that is abandoned
    // (timeout) while the connection goes away.
    const auto provider = std::make_shared<const std::function<asio::awaitable<std::string>()>>(
        s.options.sasl->oauth_token_provider_async);
    auto task = (*provider)();
    asio::co_spawn(s.executor, std::move(task),
                   asio::bind_cancellation_slot(w->cancel.slot(), [w, provider](std::exception_ptr e, std::string token) {
                     w->done = true;
                     if (e) w->error = e;
                     else w->token = std::move(token);
                     w->signal.cancel();
                   }));
  } catch (...) {  // the provider threw before returning its awaitable
    w->done = true;
    w->error = std::current_exception();
  }
  if (!w->done) {
    s.cancel_token_wait = [w] { w->signal.cancel(); };
    try {
      boost::system::error_code ignored;
      co_await w->signal.async_wait(asio::redirect_error(use_awaitable, ignored));
    } catch (const boost::system::system_error&) {  // cancelled (connect timeout)
    }
    s.cancel_token_wait = nullptr;
  }
  const std::string prefix = s.address + ": OAUTHBEARER: the token provider ";
  if (!w->done) {
    w->cancel.emit(asio::cancellation_type::terminal);
    if (s.closed) co_return failure(s.close_error.code, s.address + ": " + s.close_error.message);
    co_return failure(sasl_errc::token_provider_failed,
                      prefix + "did not return within " + std::to_string(s.options.connect_timeout.count()) + " ms");
  }
  if (w->error) {
    try {
      std::rethrow_exception(w->error);
    } catch (const std::exception& e) {
      co_return failure(sasl_errc::token_provider_failed, prefix + "threw: " + e.what());
    } catch (...) {
    }
    co_return failure(sasl_errc::token_provider_failed, prefix + "threw");
  }
  co_return std::move(w->token);
}

}  // namespace

asio::awaitable<failure> connection_state::authenticate() {
  const SaslConfig& config = *options.sasl;
  std::unique_ptr<sasl::mechanism> mechanism;
  if (config.mechanism == SaslConfig::Mechanism::oauthbearer && config.oauth_token_provider_async) {
    // Awaited before the SaslHandshake, so a slow provider never leaves an exchange half done.
    auto token = co_await fetch_token(*this);
    if (!token) co_return token.error();
    auto shared = std::make_shared<std::string>(std::move(token).value());
    mechanism = sasl::make_oauthbearer([shared] { return *shared; }, config.oauth_extensions);
  } else {
    mechanism = sasl::make_mechanism(config, host);
  }
  phase = "SASL";
  // One deadline for the whole exchange: a re-authentication holds back other requests, so it
  // must end within request_timeout. The authenticator bounds the round trips.
  const auto deadline = clock::now() + options.request_timeout;
  sasl::authenticator auth(std::move(mechanism), broker_apis);
  for (auto action = auth.start();;) {
    if (action.kind == sasl::next_action::kind_t::fail) {
      co_return failure(action.failure.code, address + ": " + action.failure.message);
    }
    if (action.kind == sasl::next_action::kind_t::done) {
      session_lifetime_ms = action.session_lifetime_ms;
      reauth.on_authenticated(clock::now(), session_lifetime_ms);
      co_return failure{};
    }
    raw_request request(action.api_key, action.api_version, std::move(action.body));
    auto c = submit_handshake(request, action.api_version, deadline);
    if (failure f = co_await wait(std::move(c))) co_return f;
    action = auth.on_response(request.answer.bytes());
  }
}

namespace {

asio::awaitable<void> reauthenticate(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  failure f = co_await s.authenticate();
  s.reauth_running = false;
  if (!f) {
    ++s.reauthentications;
    s.release_held();
    co_return;
  }
  const std::string prefix = s.address + ": ";
  if (f.message.starts_with(prefix)) f.message.erase(0, prefix.size());
  s.fail(f.code, "re-authentication (KIP-368) failed: " + f.message);  // fails the held requests too
}

// Runs the connection steps and returns their failure as a value: `||` only ends early when
// an operand completes, so an exception would otherwise wait for the deadline.
asio::awaitable<failure> establish(connection_state& s) {
  try {
    if (failure f = co_await s.connect_tcp()) co_return f;
    if (s.options.ssl_context) {
      if (failure f = co_await s.handshake_tls()) co_return f;
    }
    s.start_loops();
    if (failure f = co_await s.negotiate_api_versions()) co_return f;
    if (s.options.sasl) {
      if (failure f = co_await s.authenticate()) co_return f;
    }
    co_return failure{};
  } catch (const boost::system::system_error& e) {  // cancelled (connect timeout, closing)
    co_return failure(to_std(e.code()), s.address + ": " + e.what());
  }
}

}  // namespace

void connection_state::start_reauth() {
  reauth_running = true;
  spawn_loop(reauthenticate(shared_from_this()));
}

}  // namespace impl

asio::awaitable<outcome<connection>> connect(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                             connection_options options) {
  using namespace asio::experimental::awaitable_operators;
  auto state = std::make_shared<impl::connection_state>(executor, std::move(host), port, std::move(options));
  failure f;
  try {
    asio::steady_timer limit(executor, state->options.connect_timeout);
    auto winner = co_await (impl::establish(*state) || limit.async_wait(use_awaitable));
    if (winner.index() == 0) {
      f = std::move(std::get<0>(winner));
    } else {
      f = failure(client_errc::timeout, state->address + ": connect timed out after " +
                                            std::to_string(state->options.connect_timeout.count()) + " ms (" +
                                            state->phase + ")");
    }
  } catch (const boost::system::system_error& e) {  // the caller cancelled the connect
    f = failure(std::make_error_code(std::errc::operation_canceled), state->address + ": connect cancelled");
    (void)e;
  }
  if (f) {
    f.sent = delivery::not_sent;  // a failed connect sent nothing of the caller's
    state->fail(client_errc::connection_closed, "connect failed");
    co_await state->join_loops();
    co_return f;
  }
  co_return connection(std::move(state));
}

}  // namespace asiokafka::net
