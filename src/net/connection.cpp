// net::connection: requests (submit, wait, decode), the reader/writer/timer loops, close.
// The connect steps and re-authentication are in handshake.cpp.
#include "net/connection.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/tls.hpp"
#include "net/connection_state.hpp"
#include "net/sansio/address.hpp"
#include "net/sansio/api_versions.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
using asio::use_awaitable;

std::string api_name(std::int16_t api_key) {
  const auto* api = protocol::find_api(api_key);
  return api != nullptr ? std::string(api->name) : "API " + std::to_string(api_key);
}

connection_options connection_options::from(const ClientConfig& c) {
  connection_options o;
  o.client_id = c.client_id;
  o.request_timeout = c.request_timeout;
  o.connect_timeout = c.connect_timeout;
  const bool tls = c.security_protocol == SecurityProtocol::ssl || c.security_protocol == SecurityProtocol::sasl_ssl;
  const bool sasl =
      c.security_protocol == SecurityProtocol::sasl_plaintext || c.security_protocol == SecurityProtocol::sasl_ssl;
  if (tls) o.ssl_context = c.ssl_context ? c.ssl_context : create_ssl_context(TlsOptions{});
  o.ssl_check_hostname = c.ssl_check_hostname;
  if (sasl) o.sasl = c.sasl;
  o.max_in_flight_requests = c.max_in_flight_requests_per_connection;
  o.max_response_bytes = c.max_response_bytes;
  return o;
}

namespace impl {

call::call(std::shared_ptr<connection_state> s, request_base& r, time_point d)
    : state(std::move(s)), request(r), deadline(d), signal(state->executor, time_point::max()) {}

call::~call() {
  if (held) std::erase(state->held_calls, this);
  if (in_mux) {
    // The waiter is gone before the answer: abandon the request (a written one's answer is
    // read and dropped).
    state->calls.erase(id);
    state->mux.cancel(id);
    state->dispatch();
    state->wake_writer();
  }
}

void call::finish(failure f) {
  early = std::move(f);
  signal.cancel();
}

connection_state::connection_state(asio::any_io_executor ex, std::string host_name, std::uint16_t port_number,
                                   connection_options opts)
    : executor(std::move(ex)),
      host(std::move(host_name)),
      port(port_number),
      address(format_address(host, port)),
      options(std::move(opts)),
      socket(executor),
      mux(multiplexer_config{.max_in_flight_requests = options.max_in_flight_requests,
                             .max_in_flight_bytes = options.max_in_flight_bytes}),
      reader(options.max_response_bytes),
      write_wakeup(executor, time_point::max()),
      deadline_timer(executor, time_point::max()),
      loops(executor) {}

failure connection_state::describe(std::error_code ec, std::int16_t api_key, std::int16_t version, const char* what,
                                   delivery sent) const {
  std::string message = address + ": " + api_name(api_key) + (version >= 0 ? " v" + std::to_string(version) : "");
  if (what != nullptr) message += std::string(": ") + what;
  if (closed && ec == close_error.code && !close_error.message.empty()) message += ": " + close_error.message;
  return {ec, std::move(message), sent};
}

std::shared_ptr<call> connection_state::submit(request_base& r, request_options o) {
  const auto now = clock::now();
  const auto timeout = o.timeout.value_or(options.request_timeout);
  auto c = std::make_shared<call>(shared_from_this(), r, now + timeout);
  c->timeout = timeout;
  c->version = common_version(broker_apis, r.api_key, r.min_version, r.max_version);
  if (closed) {
    c->finish(describe(close_error.code, r.api_key, c->version, nullptr, delivery::not_sent));
    return c;
  }
  if (c->version < 0) {
    c->finish(describe(client_errc::unsupported_version, r.api_key, -1,
                       "no version both the client and the broker implement", delivery::not_sent));
    return c;
  }
  const auto ec = r.records_owner ? r.encode_gathered(c->version, c->body, c->gathered) : r.encode(c->version, c->body);
  if (ec) {
    c->finish(describe(ec, r.api_key, c->version, "encoding the request", delivery::not_sent));
    return c;
  }
  // KIP-368: checked before the next request is written, as the Java client does.
  if (!reauth_running && reauth.due(now)) start_reauth();
  if (reauth_running) {
    c->held = true;
    held_calls.push_back(c.get());
    if (c->deadline < deadline_timer.expiry()) deadline_timer.cancel();  // the timer loop re-arms
    return c;
  }
  c->id = enqueue(*c);
  c->in_mux = true;
  calls.emplace(c->id, c.get());
  dispatch();  // a failed multiplexer completes it at once
  if (!closed) {
    wake_writer();
    if (c->deadline < deadline_timer.expiry()) deadline_timer.cancel();  // the timer loop re-arms
  }
  return c;
}

std::shared_ptr<call> connection_state::submit_handshake(request_base& r, std::int16_t version, time_point deadline) {
  auto c = std::make_shared<call>(shared_from_this(), r, deadline);
  c->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  c->version = version;
  if (const auto ec = r.encode(version, c->body)) {
    c->finish(describe(ec, r.api_key, version, "encoding the request", delivery::not_sent));
    return c;
  }
  c->id = mux.enqueue(r.api_key, version, std::move(c->body), options.client_id, true, deadline);
  c->in_mux = true;
  calls.emplace(c->id, c.get());
  dispatch();
  if (!closed) {
    wake_writer();
    if (deadline < deadline_timer.expiry()) deadline_timer.cancel();
  }
  return c;
}

request_id connection_state::enqueue(call& c) {
  request_base& r = c.request;
  if (c.gathered.segments.empty()) {
    return mux.enqueue(r.api_key, c.version, std::move(c.body), options.client_id, r.expects_response, c.deadline);
  }
  return mux.enqueue(r.api_key, c.version, std::move(c.body), std::move(c.gathered), r.records_owner,
                     options.client_id, r.expects_response, c.deadline);
}

void connection_state::release_held() {
  const auto now = clock::now();
  std::deque<call*> released;
  released.swap(held_calls);
  for (call* c : released) {
    c->held = false;
    request_base& r = c->request;
    if (closed) {
      c->finish(describe(close_error.code, r.api_key, c->version, nullptr, delivery::not_sent));
    } else if (now >= c->deadline) {
      c->finish(describe(client_errc::timeout, r.api_key, c->version, "timed out waiting for re-authentication",
                         delivery::not_sent));
    } else {
      c->id = enqueue(*c);
      c->in_mux = true;
      calls.emplace(c->id, c);
    }
  }
  dispatch();
  if (!closed) {
    wake_writer();
    deadline_timer.cancel();
  }
}

asio::awaitable<failure> connection_state::wait(std::shared_ptr<call> c) {
  if (!c->result && !c->early) {
    // Woken by dispatch() or finish() (timer cancelled), or by the caller's cancellation. Asio
    // may also throw operation_aborted for a cancelled coroutine; both end up below.
    try {
      boost::system::error_code ignored;
      co_await c->signal.async_wait(asio::redirect_error(use_awaitable, ignored));
    } catch (const boost::system::system_error&) {
    }
  }
  request_base& r = c->request;
  if (c->early) co_return std::move(*c->early);
  if (!c->result) {
    // Cancelled by the caller: abandon the request. A written one's answer is read and
    // dropped; the connection and the other requests go on.
    delivery sent = delivery::not_sent;
    if (c->held) {
      c->held = false;
      std::erase(held_calls, c.get());
    } else if (c->in_mux) {
      c->in_mux = false;
      calls.erase(c->id);
      if (mux.cancel(c->id) == cancel_result::abandoned) sent = delivery::maybe_sent;
      dispatch();
      wake_writer();
    }
    co_return describe(std::make_error_code(std::errc::operation_canceled), r.api_key, c->version, "cancelled", sent);
  }
  completion& done = *c->result;
  if (done.ec) {
    failure f = describe(done.ec, r.api_key, c->version, nullptr, done.sent);
    if (done.ec == client_errc::timeout && !closed) {
      f.message += ": no response within " + std::to_string(c->timeout.count()) + " ms";
    }
    co_return f;
  }
  r.version = c->version;
  if (const auto ec = r.decode(std::move(done.body), c->version)) {
    // The stream cannot be trusted any more: close the connection.
    fail(ec, api_name(r.api_key) + " v" + std::to_string(c->version) + " response does not decode (" + ec.message() +
                 ")");
    co_return describe(ec, r.api_key, c->version, "decoding the response; the connection was closed",
                       delivery::maybe_sent);
  }
  if (const std::int32_t t = r.throttle_time_ms(); t > 0) {  // KIP-219
    const auto until = clock::now() + std::chrono::milliseconds(t);
    if (until > mux.throttled_until()) mux.throttle_until(until);
  }
  co_return failure{};
}

void connection_state::expire_held(time_point now) {
  std::deque<call*> keep;
  for (call* c : held_calls) {
    if (c->deadline > now) {
      keep.push_back(c);
      continue;
    }
    c->held = false;
    c->finish(describe(client_errc::timeout, c->request.api_key, c->version, "timed out waiting for re-authentication",
                       delivery::not_sent));
  }
  held_calls.swap(keep);
}

void connection_state::dispatch() {
  while (auto done = mux.next_completion()) {
    const auto it = calls.find(done->id);
    if (it == calls.end()) continue;  // its waiter is gone
    call* c = it->second;
    calls.erase(it);
    c->in_mux = false;
    c->result = std::move(*done);
    c->signal.cancel();
  }
}

void connection_state::fail(std::error_code ec, std::string reason) {
  if (closed) return;
  closed = true;
  close_error = failure(ec, std::move(reason));
  mux.fail_all(ec);
  boost::system::error_code ignored;
  lowest().close(ignored);
  // Closed: nothing reads the gathered records any more, so their owners (the producer's
  // batches) are not kept alive by a connection that is only waiting to be torn down.
  mux.release_gathered();
  write_wakeup.cancel();
  deadline_timer.cancel();
  if (cancel_token_wait) cancel_token_wait();
  release_held();  // they fail with the close error, never written
  dispatch();
}

namespace {

asio::awaitable<void> guarded(std::shared_ptr<connection_state> self, asio::awaitable<void> loop) {
  try {
    co_await std::move(loop);
  } catch (const std::exception& e) {
    self->fail(client_errc::connection_lost, std::string("internal error in a connection task: ") + e.what());
  }
}

}  // namespace

void connection_state::spawn_loop(asio::awaitable<void> loop) {
  loops.spawn(guarded(shared_from_this(), std::move(loop)));
}

asio::awaitable<void> connection_state::join_loops() {
  const auto keep = shared_from_this();
  (void)co_await loops.join(clock::now() + options.connect_timeout + options.request_timeout);
}

asio::awaitable<std::size_t> connection_state::write_all(std::span<const asio::const_buffer> buffers,
                                                         boost::system::error_code& ec) {
  if (tls) co_return co_await asio::async_write(*tls, buffers, asio::redirect_error(use_awaitable, ec));
  co_return co_await asio::async_write(socket, buffers, asio::redirect_error(use_awaitable, ec));
}

asio::awaitable<std::size_t> connection_state::read_some(asio::mutable_buffer buffer, boost::system::error_code& ec) {
  if (tls) co_return co_await tls->async_read_some(buffer, asio::redirect_error(use_awaitable, ec));
  co_return co_await socket.async_read_some(buffer, asio::redirect_error(use_awaitable, ec));
}

namespace {

asio::awaitable<void> writer_loop(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  std::vector<asio::const_buffer> buffers;
  while (!s.closed) {
    const auto spans = s.mux.prepare_write(clock::now());
    if (spans.empty()) {
      // Nothing to send, budgets full, or throttled (KIP-219): sleep until woken or the
      // throttle ends.
      const auto until = s.mux.throttled_until();
      s.write_wakeup.expires_at(s.mux.waiting() > 0 && until > clock::now() ? until : time_point::max());
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

// Deadlines: requests held at the re-authentication gate leave unwritten; a request written
// and unanswered by its deadline closes the connection (see multiplexer.hpp).
asio::awaitable<void> timer_loop(std::shared_ptr<connection_state> self) {
  connection_state& s = *self;
  while (!s.closed) {
    auto next = s.mux.next_deadline();
    for (const call* c : s.held_calls) {
      if (!next || c->deadline < *next) next = c->deadline;
    }
    s.deadline_timer.expires_at(next ? *next : time_point::max());
    boost::system::error_code ignored;
    co_await s.deadline_timer.async_wait(asio::redirect_error(use_awaitable, ignored));
    if (s.closed) break;
    const auto now = clock::now();
    s.expire_held(now);
    std::chrono::milliseconds expired{0};  // the longest timeout that ran out, for the message
    for (const auto& [id, c] : s.calls) {
      if (c->deadline <= now) expired = std::max(expired, c->timeout);
    }
    if (const auto ec = s.mux.expire(now)) {
      s.fail(ec, "a request written to the broker got no response within " + std::to_string(expired.count()) +
                     " ms; the connection is closed");
      break;
    }
    s.dispatch();
  }
}

}  // namespace

void connection_state::start_loops() {
  auto self = shared_from_this();
  spawn_loop(reader_loop(self));
  spawn_loop(writer_loop(self));
  spawn_loop(timer_loop(self));
}

}  // namespace impl

connection& connection::operator=(connection&& o) noexcept {
  if (this != &o) {
    if (state_) state_->fail(client_errc::connection_closed, "closed by the client");
    state_ = std::move(o.state_);
  }
  return *this;
}

connection::~connection() {
  if (state_) state_->fail(client_errc::connection_closed, "closed by the client");
}

asio::awaitable<failure> connection::send(request_base& request, request_options options) {
  if (!state_) {
    return [](std::int16_t key) -> asio::awaitable<failure> {
      co_return failure(client_errc::connection_closed, api_name(key) + ": send on an empty connection handle");
    }(request.api_key);
  }
  auto c = state_->submit(request, options);  // now, so requests keep their call order
  return state_->wait(std::move(c));
}

std::int16_t connection::version_for(std::int16_t api_key, std::int16_t min_version,
                                     std::int16_t max_version) const noexcept {
  if (!state_) return -1;
  return common_version(state_->broker_apis, api_key, min_version, max_version);
}

std::span<const protocol::messages::ApiVersionsResponse::ApiVersion> connection::broker_apis() const noexcept {
  if (!state_) return {};
  return state_->broker_apis;
}

std::int64_t connection::session_lifetime_ms() const noexcept { return state_ ? state_->session_lifetime_ms : 0; }

std::uint64_t connection::reauthentications() const noexcept { return state_ ? state_->reauthentications : 0; }

const std::string& connection::address() const noexcept {
  static const std::string none;
  return state_ ? state_->address : none;
}

bool connection::is_open() const noexcept { return state_ && !state_->closed; }

failure connection::close_reason() const {
  if (!state_) return failure(client_errc::connection_closed, "an empty connection handle");
  return state_->close_error;
}

std::size_t connection::pending() const noexcept {
  return state_ ? state_->mux.pending() + state_->held_calls.size() : 0;
}

std::size_t connection::in_flight() const noexcept { return state_ ? state_->mux.in_flight_requests() : 0; }

std::size_t connection::held() const noexcept { return state_ ? state_->held_calls.size() : 0; }

asio::awaitable<void> connection::close() {
  const auto state = state_;
  if (!state) co_return;
  state->fail(client_errc::connection_closed, "closed by the client");
  co_await state->join_loops();
}

}  // namespace asiokafka::net
