#include "net/connection.hpp"

#include <exception>
#include <unordered_map>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/api_versions.hpp"
#include "net/multiplexer.hpp"
#include "net/reauth.hpp"
#include "net/sasl/authenticator.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using asio::use_awaitable;
namespace msg = protocol::messages;

std::string api_name(std::int16_t api_key) {
  const auto* api = protocol::find_api(api_key);
  return api != nullptr ? std::string(api->name) : "API " + std::to_string(api_key);
}

namespace detail {
namespace {

std::string endpoint_string(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

/// Everything a connection owns. Shared by the handle, the background loops and the
/// operations in progress, so whichever ends last frees it; touched only on `executor`.
class connection_state : public std::enable_shared_from_this<connection_state> {
 public:
  connection_state(asio::any_io_executor ex, std::string host_name, std::uint16_t port_number, ConnectionOptions opts)
      : executor(std::move(ex)),
        host(std::move(host_name)),
        port(port_number),
        address((is_ip_literal(host) && host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                std::to_string(port)),
        options(std::move(opts)),
        socket(executor),
        mux(multiplexer_config{.max_in_flight_requests = options.max_in_flight_requests,
                               .max_in_flight_bytes = options.max_in_flight_bytes}),
        reader(options.max_response_bytes),
        write_wakeup(executor, time_point::max()),
        deadline_timer(executor, time_point::max()),
        loops_done(executor, time_point::max()),
        gate(executor, time_point::max()) {}

  /// A request awaiting its completion; registered in `waiters` for its lifetime.
  struct pending_call {
    pending_call(connection_state& s, request_id request) : state(s), id(request), signal(s.executor, time_point::max()) {
      state.waiters.emplace(id, this);
    }
    ~pending_call() { state.waiters.erase(id); }
    pending_call(const pending_call&) = delete;
    pending_call& operator=(const pending_call&) = delete;

    connection_state& state;
    request_id id;
    asio::steady_timer signal;  // cancelled when `result` is set
    std::optional<completion> result;
  };

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

  /// Hands completions to their waiters. Completions nobody waits for (a cancelled send) drop.
  void dispatch() {
    while (auto c = mux.next_completion()) {
      const auto it = waiters.find(c->id);
      if (it == waiters.end()) continue;
      it->second->result = std::move(*c);
      it->second->signal.cancel();
    }
  }

  void wake_writer() { write_wakeup.cancel(); }

  /// An awaitable OAUTHBEARER token provider in progress (see fetch_token).
  struct token_wait {
    explicit token_wait(const asio::any_io_executor& ex) : signal(ex, time_point::max()) {}
    asio::steady_timer signal;          // cancelled when the provider completes
    asio::cancellation_signal cancel;  // emitted when the wait gives up
    bool done = false;
    std::string token;
    std::exception_ptr error;
  };

  /// Fails the connection once: pending requests complete with `ec`, the socket closes and
  /// the loops end. Later calls do nothing.
  void fail(std::error_code ec, std::string reason) {
    if (closed) return;
    closed = true;
    close_error = ec;
    close_reason = std::move(reason);
    mux.fail_all(ec);
    boost::system::error_code ignored;
    lowest().close(ignored);
    write_wakeup.cancel();
    deadline_timer.cancel();
    gate.cancel();
    if (pending_token) pending_token->signal.cancel();
    dispatch();
  }

  void start_loops();
  asio::awaitable<void> join() {
    while (running_loops > 0) {
      boost::system::error_code ignored;
      co_await loops_done.async_wait(asio::redirect_error(use_awaitable, ignored));
    }
  }

  asio::awaitable<void> connect_tcp();
  asio::awaitable<void> handshake_tls();
  asio::awaitable<void> negotiate_api_versions();
  asio::awaitable<void> authenticate();
  asio::awaitable<std::string> fetch_token();
  /// KIP-368: closes the gate and runs authenticate() again in-band (see reauthenticate).
  void start_reauth();

  template <class Buffers>
  asio::awaitable<std::size_t> write_all(const Buffers& buffers, boost::system::error_code& ec) {
    if (tls) co_return co_await asio::async_write(*tls, buffers, asio::redirect_error(use_awaitable, ec));
    co_return co_await asio::async_write(socket, buffers, asio::redirect_error(use_awaitable, ec));
  }
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, boost::system::error_code& ec) {
    if (tls) co_return co_await tls->async_read_some(buffer, asio::redirect_error(use_awaitable, ec));
    co_return co_await socket.async_read_some(buffer, asio::redirect_error(use_awaitable, ec));
  }

  asio::any_io_executor executor;
  std::string host;
  std::uint16_t port;
  std::string address;
  ConnectionOptions options;
  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;  // owns the socket once TLS starts
  multiplexer mux;
  frame_reader reader;
  std::unordered_map<request_id, pending_call*> waiters;
  asio::steady_timer write_wakeup;    // the writer sleeps on it; cancel() wakes it
  asio::steady_timer deadline_timer;  // at mux.next_deadline()
  asio::steady_timer loops_done;      // cancelled when the last loop ends
  int running_loops = 0;
  bool closed = false;
  std::error_code close_error;
  std::string close_reason;
  const char* phase = "resolving";  // for connect timeouts
  std::vector<msg::ApiVersionsResponse::ApiVersion> broker_apis;
  std::int64_t session_lifetime_ms = 0;
  // KIP-368 re-authentication. While `reauth_running`, requests from send() wait at the gate
  // (before the multiplexer), so nothing but SaslHandshake/SaslAuthenticate is written until it
  // ends; requests enqueued earlier are written and answered first (the broker answers in order).
  reauth_schedule reauth;
  bool reauth_running = false;
  asio::steady_timer gate;  // cancelled when a re-authentication ends or the connection fails
  std::uint64_t reauthentications = 0;
  std::shared_ptr<token_wait> pending_token;
};

/// A request through the multiplexer, bypassing the re-authentication gate (the handshake's own
/// requests; raw_call is the gated entry point of send()).
asio::awaitable<frame> call(connection_state& s, std::int16_t api_key, std::int16_t version,
                            std::vector<std::uint8_t>& body, bool expects, time_point deadline);

namespace {

asio::awaitable<void> writer_loop(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  std::vector<asio::const_buffer> buffers;
  while (!s.closed) {
    const auto spans = s.mux.prepare_write(clock_type::now());
    if (spans.empty()) {
      // Nothing to send, budgets full, or throttled (KIP-219): sleep until woken or the
      // throttle ends.
      const auto until = s.mux.throttled_until();
      s.write_wakeup.expires_at(s.mux.waiting() > 0 && until > clock_type::now() ? until : time_point::max());
      boost::system::error_code ignored;
      co_await s.write_wakeup.async_wait(asio::redirect_error(use_awaitable, ignored));
      continue;
    }
    buffers.clear();
    for (const auto span : spans) buffers.emplace_back(span.data(), span.size());
    boost::system::error_code ec;
    co_await s.write_all(buffers, ec);
    if (ec) {
      s.fail(client_errc::connection_lost, "write failed: " + ec.message());
      break;
    }
    s.mux.on_written();
    s.dispatch();
  }
}

asio::awaitable<void> reader_loop(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  while (!s.closed) {
    const auto region = s.reader.prepare();
    boost::system::error_code ec;
    const std::size_t n = co_await s.read_some(asio::buffer(region.data(), region.size()), ec);
    if (ec) {
      std::string reason =
          ec == asio::error::eof ? std::string("the broker closed the connection") : "read failed: " + ec.message();
      if (s.reader.buffered() > 0) {
        reason += " in the middle of a response frame (" + std::to_string(s.reader.buffered()) + " bytes of it received)";
      }
      s.fail(client_errc::connection_lost, std::move(reason));
      break;
    }
    s.reader.commit(n);
    std::error_code frame_ec;
    while (auto f = s.reader.next(frame_ec)) {
      if (const auto mux_ec = s.mux.on_frame(*f)) {
        s.fail(mux_ec, "response does not match the oldest request in flight (" + mux_ec.message() + ")");
        break;
      }
    }
    if (frame_ec) s.fail(frame_ec, "bad response frame (" + frame_ec.message() + ")");
    s.dispatch();
    s.wake_writer();  // in-flight budget freed
  }
}

asio::awaitable<void> timer_loop(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  while (!s.closed) {
    const auto next = s.mux.next_deadline();
    s.deadline_timer.expires_at(next ? *next : time_point::max());
    boost::system::error_code ignored;
    co_await s.deadline_timer.async_wait(asio::redirect_error(use_awaitable, ignored));
    if (s.closed) break;
    if (const auto ec = s.mux.expire(clock_type::now())) {
      s.fail(ec, "a request got no response within " + std::to_string(s.options.request_timeout.count()) +
                     " ms; the connection is closed");
      break;
    }
    s.dispatch();
  }
}

}  // namespace

void connection_state::start_loops() {
  running_loops = 3;
  auto self = shared_from_this();
  auto on_end = [self](std::exception_ptr e) {
    if (e) self->fail(client_errc::connection_lost, "internal error in a connection loop");
    if (--self->running_loops == 0) self->loops_done.cancel();
  };
  asio::co_spawn(executor, reader_loop(self), on_end);
  asio::co_spawn(executor, writer_loop(self), on_end);
  asio::co_spawn(executor, timer_loop(self), on_end);
}

asio::awaitable<void> connection_state::connect_tcp() {
  phase = "resolving";
  tcp::resolver resolver(executor);
  const std::string service = std::to_string(port);
  boost::system::error_code ec;
  const auto endpoints = co_await resolver.async_resolve(host, service, asio::redirect_error(use_awaitable, ec));
  if (ec) throw std::system_error(client_errc::connection_failed, address + ": cannot resolve: " + ec.message());
  phase = "connecting";
  std::string tried;
  for (const auto& entry : endpoints) {
    const tcp::endpoint ep = entry.endpoint();
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      throw std::system_error(std::make_error_code(std::errc::operation_canceled), address);
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    ec = {};
    co_await socket.async_connect(ep, asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      co_return;
    }
    tried += (tried.empty() ? "" : "; ") + endpoint_string(ep) + ": " + ec.message();
  }
  throw std::system_error(client_errc::connection_failed, address + ": could not connect (" + tried + ")");
}

asio::awaitable<void> connection_state::handshake_tls() {
  phase = "TLS handshake";
  const auto& t = *options.tls;
  if (!t.context) throw std::system_error(client_errc::connection_failed, address + ": TLS without an ssl::context");
  tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), *t.context);
  // SNI carries host names only (RFC 6066 forbids IP literals).
  if (!is_ip_literal(host) && SSL_set_tlsext_host_name(tls->native_handle(), host.c_str()) != 1) {
    throw std::system_error(std::error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()),
                            address + ": setting SNI");
  }
  if (t.verify_hostname) {
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
    throw std::system_error(ec, address + ": TLS handshake failed: " + detail);
  }
}

asio::awaitable<void> connection_state::negotiate_api_versions() {
  phase = "ApiVersions";
  api_versions_exchange exchange(options.software_name, options.software_version);
  for (;;) {
    auto body = exchange.request_body();
    const auto deadline = clock_type::now() + options.request_timeout;
    const frame response = co_await call(*this, msg::ApiVersionsRequest::api_key, exchange.version(), body, true, deadline);
    std::error_code ec;
    std::string what;
    const auto step = exchange.on_response(response.bytes(), ec, what);
    if (step == api_versions_exchange::step::done) break;
    if (step == api_versions_exchange::step::failed) throw std::system_error(ec, address + ": " + what);
  }
  broker_apis = exchange.response().api_keys;
}

// Runs the awaitable token provider as its own coroutine and waits for it at most
// connect_timeout. On timeout (or when the connection fails) the provider is cancelled but not
// waited for, so a provider that ignores cancellation cannot hold the connection.
asio::awaitable<std::string> connection_state::fetch_token() {
  phase = "OAUTHBEARER token provider";
  const auto w = std::make_shared<token_wait>(executor);
  w->signal.expires_after(options.connect_timeout);
  try {
    // A copy of the provider lives until its coroutine completes: a coroutine lambda reads its
    // captures through the lambda object, which must outlive a provider that is abandoned
    // (timeout) while the connection goes away.
    const auto provider = std::make_shared<const std::function<asio::awaitable<std::string>()>>(
        options.sasl->oauth_token_provider_async);
    auto task = (*provider)();
    asio::co_spawn(executor, std::move(task),
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
    pending_token = w;
    try {
      boost::system::error_code ignored;
      co_await w->signal.async_wait(asio::redirect_error(use_awaitable, ignored));
    } catch (const boost::system::system_error&) {  // cancelled (connect timeout)
    }
    pending_token.reset();
  }
  if (!w->done) {
    w->cancel.emit(asio::cancellation_type::terminal);
    if (closed) throw std::system_error(close_error, address + ": " + close_reason);
    throw std::system_error(sasl_errc::token_provider_failed,
                            address + ": OAUTHBEARER: the token provider did not return within " +
                                std::to_string(options.connect_timeout.count()) + " ms");
  }
  if (w->error) {
    try {
      std::rethrow_exception(w->error);
    } catch (const std::exception& e) {
      throw std::system_error(sasl_errc::token_provider_failed,
                              address + ": OAUTHBEARER: the token provider threw: " + e.what());
    } catch (...) {
      throw std::system_error(sasl_errc::token_provider_failed, address + ": OAUTHBEARER: the token provider threw");
    }
  }
  co_return std::move(w->token);
}

asio::awaitable<void> connection_state::authenticate() {
  const SaslConfig& config = *options.sasl;
  std::unique_ptr<sasl::Mechanism> mechanism;
  if (config.mechanism == SaslConfig::Mechanism::oauthbearer && config.oauth_token_provider_async) {
    // Awaited before the SaslHandshake, so a slow provider never leaves an exchange half done.
    auto token = std::make_shared<std::string>(co_await fetch_token());
    mechanism = sasl::make_oauthbearer([token] { return *token; }, config.oauth_extensions);
  } else {
    mechanism = sasl::make_mechanism(config, host);
  }
  phase = "SASL";
  // One deadline for the whole exchange: a re-authentication holds back other requests, so it
  // must end within request_timeout.
  const auto deadline = clock_type::now() + options.request_timeout;
  sasl::Authenticator auth(std::move(mechanism), broker_apis);
  for (auto action = auth.start();;) {
    if (action.kind == sasl::Action::Kind::fail) {
      throw std::system_error(action.failure.code, address + ": " + action.failure.message);
    }
    if (action.kind == sasl::Action::Kind::done) {
      session_lifetime_ms = action.session_lifetime_ms;
      reauth.on_authenticated(clock_type::now(), session_lifetime_ms);
      break;
    }
    const frame response = co_await call(*this, action.api_key, action.api_version, action.body, true, deadline);
    action = auth.on_response(response.bytes());
  }
}

namespace {

asio::awaitable<void> reauthenticate(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  std::error_code ec;
  std::string what;
  try {
    co_await s.authenticate();
    ++s.reauthentications;
    co_return;
  } catch (const std::system_error& e) {
    ec = e.code();
    what = e.what();
  } catch (const boost::system::system_error& e) {
    ec = e.code();
    what = e.what();
  }
  const std::string prefix = s.address + ": ";
  if (what.starts_with(prefix)) what.erase(0, prefix.size());
  s.fail(ec, "re-authentication (KIP-368) failed: " + what);
}

}  // namespace

void connection_state::start_reauth() {
  reauth_running = true;
  ++running_loops;
  auto self = shared_from_this();
  asio::co_spawn(executor, reauthenticate(self), [self](std::exception_ptr e) {
    if (e) self->fail(client_errc::connection_lost, "internal error in re-authentication");
    self->reauth_running = false;
    self->gate.cancel();  // let the held requests go
    if (--self->running_loops == 0) self->loops_done.cancel();
  });
}

asio::awaitable<frame> raw_call(connection_state& s, std::int16_t api_key, std::int16_t version,
                                std::vector<std::uint8_t>& body, bool expects) {
  const auto keep_alive = s.shared_from_this();
  const auto now = clock_type::now();
  const auto deadline = now + s.options.request_timeout;
  // KIP-368: checked before the next request is written, as the Java client does.
  if (!s.closed && !s.reauth_running && s.reauth.due(now)) s.start_reauth();
  if (!s.reauth_running) co_return co_await call(s, api_key, version, body, expects, deadline);
  while (s.reauth_running && !s.closed) {
    try {
      boost::system::error_code ignored;
      co_await s.gate.async_wait(asio::redirect_error(use_awaitable, ignored));
    } catch (const boost::system::system_error&) {
    }
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (s.reauth_running && !s.closed && cs.cancelled() != asio::cancellation_type::none) {
      throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                              s.address + ": " + api_name(api_key) + " v" + std::to_string(version) +
                                  " cancelled while waiting for re-authentication");
    }
  }
  if (!s.closed && clock_type::now() >= deadline) {
    throw_send_error(s, api_key, version, client_errc::timeout, "waiting for re-authentication");
  }
  co_return co_await call(s, api_key, version, body, expects, deadline);
}

asio::awaitable<frame> call(connection_state& s, std::int16_t api_key, std::int16_t version,
                            std::vector<std::uint8_t>& body, bool expects, time_point deadline) {
  const auto keep_alive = s.shared_from_this();
  const request_id id = s.mux.enqueue(api_key, version, std::move(body), s.options.client_id, expects, deadline);
  connection_state::pending_call call(s, id);
  s.dispatch();
  if (!s.closed) {
    s.wake_writer();
    if (deadline < s.deadline_timer.expiry()) s.deadline_timer.cancel();  // the timer loop re-arms
  }
  if (!call.result) {
    // Woken by dispatch() (timer cancelled) or by the caller's cancellation slot. Asio may
    // also throw operation_aborted for a cancelled coroutine; both end up below.
    try {
      boost::system::error_code ignored;
      co_await call.signal.async_wait(asio::redirect_error(use_awaitable, ignored));
    } catch (const boost::system::system_error&) {
    }
  }
  if (!call.result) {
    // Cancelled by the caller: abandon the request. If it was written, its response is read
    // and dropped; the connection and the other requests go on.
    s.waiters.erase(id);
    s.mux.cancel(id);
    s.dispatch();
    s.wake_writer();
    throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                            s.address + ": " + api_name(api_key) + " v" + std::to_string(version) + " cancelled");
  }
  if (call.result->ec) throw_send_error(s, api_key, version, call.result->ec, nullptr);
  co_return std::move(call.result->body);
}

void throw_send_error(connection_state& s, std::int16_t api_key, std::int16_t version, std::error_code ec,
                      const char* what) {
  std::string message = s.address + ": " + api_name(api_key) + " v" + std::to_string(version);
  if (what != nullptr) message += std::string(": ") + what;
  if (s.closed && ec == s.close_error && !s.close_reason.empty()) {
    message += ": " + s.close_reason;
  } else if (ec == client_errc::timeout) {
    message += ": no response within " + std::to_string(s.options.request_timeout.count()) + " ms";
  }
  throw std::system_error(ec, message);
}

void fail_malformed(connection_state& s, std::int16_t api_key, std::int16_t version, std::error_code ec) {
  s.fail(ec, api_name(api_key) + " v" + std::to_string(version) + " response does not decode (" + ec.message() + ")");
}

void apply_throttle(connection_state& s, std::int32_t throttle_time_ms) {
  if (throttle_time_ms <= 0) return;
  const auto until = clock_type::now() + std::chrono::milliseconds(throttle_time_ms);
  if (until > s.mux.throttled_until()) s.mux.throttle_until(until);
}

namespace {

asio::awaitable<frame> raw_send(std::shared_ptr<connection_state> state, std::int16_t api_key, std::int16_t version,
                                std::vector<std::uint8_t> body, bool expects) {
  if (!state) throw std::system_error(client_errc::connection_closed, "send on an empty Connection handle");
  co_return co_await raw_call(*state, api_key, version, body, expects);
}

// Runs the connection steps and returns their failure as a value: `||` only ends early
// when an operand succeeds, so an exception would otherwise wait for the deadline.
asio::awaitable<std::exception_ptr> establish(connection_state& s) {
  std::exception_ptr error;
  try {
    co_await s.connect_tcp();
    if (s.options.tls) co_await s.handshake_tls();
    s.start_loops();
    co_await s.negotiate_api_versions();
    if (s.options.sasl) co_await s.authenticate();
  } catch (...) {
    error = std::current_exception();
  }
  co_return error;
}

}  // namespace
}  // namespace detail

asio::awaitable<Connection> connect(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                    ConnectionOptions options) {
  using namespace asio::experimental::awaitable_operators;
  auto state = std::make_shared<detail::connection_state>(executor, std::move(host), port, std::move(options));
  asio::steady_timer limit(executor, state->options.connect_timeout);
  std::exception_ptr error;
  {
    auto winner = co_await (detail::establish(*state) || limit.async_wait(use_awaitable));
    if (winner.index() == 0) {
      error = std::get<0>(winner);
    } else {
      error = std::make_exception_ptr(std::system_error(
          client_errc::timeout, state->address + ": connect timed out after " +
                                    std::to_string(state->options.connect_timeout.count()) + " ms (" + state->phase +
                                    ")"));
    }
  }
  if (error) {
    state->fail(client_errc::connection_closed, "connect failed");
    co_await state->join();
    try {
      std::rethrow_exception(error);
    } catch (const std::system_error&) {
      throw;
    } catch (const boost::system::system_error& e) {
      throw std::system_error(e.code(), state->address + ": " + e.what());
    }
  }
  co_return Connection(std::move(state));
}

std::uint64_t Connection::reauthentications() const noexcept { return state_ ? state_->reauthentications : 0; }

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    if (state_) state_->fail(client_errc::connection_closed, "closed by the client");
    state_ = std::move(o.state_);
  }
  return *this;
}

Connection::~Connection() {
  if (state_) state_->fail(client_errc::connection_closed, "closed by the client");
}

asio::awaitable<frame> Connection::send_raw(std::int16_t api_key, std::int16_t api_version,
                                            std::vector<std::uint8_t> body, bool expects_response) {
  return detail::raw_send(state_, api_key, api_version, std::move(body), expects_response);
}

std::int16_t Connection::version_for(std::int16_t api_key, std::int16_t max_version) const noexcept {
  if (!state_) return -1;
  return common_version(state_->broker_apis, api_key, 0, max_version);
}

std::span<const msg::ApiVersionsResponse::ApiVersion> Connection::broker_apis() const noexcept {
  if (!state_) return {};
  return state_->broker_apis;
}

std::int64_t Connection::session_lifetime_ms() const noexcept { return state_ ? state_->session_lifetime_ms : 0; }

const std::string& Connection::address() const noexcept {
  static const std::string none;
  return state_ ? state_->address : none;
}

bool Connection::is_open() const noexcept { return state_ && !state_->closed; }

std::size_t Connection::pending() const noexcept { return state_ ? state_->mux.pending() : 0; }

void Connection::report_malformed(std::int16_t api_key, std::int16_t api_version, std::error_code ec) {
  if (state_) detail::fail_malformed(*state_, api_key, api_version, ec);
}

void Connection::apply_throttle(std::int32_t throttle_time_ms) {
  if (state_) detail::apply_throttle(*state_, throttle_time_ms);
}

asio::awaitable<void> Connection::close() {
  const auto state = state_;
  if (!state) co_return;
  state->fail(client_errc::connection_closed, "closed by the client");
  co_await state->join();
}

}  // namespace asiokafka::net
