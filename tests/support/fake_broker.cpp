#include "support/fake_broker.hpp"

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <map>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
namespace msg = protocol::messages;

namespace {
// Requests larger than this end the connection (the client under test is broken then).
constexpr std::int32_t max_request_bytes = 64 * 1024 * 1024;
}  // namespace

struct FakeSession::Io {
  explicit Io(tcp::socket s) : socket(std::move(s)), wakeup(socket.get_executor(), asio::steady_timer::time_point::max()) {}
  tcp::socket socket;
  asio::steady_timer wakeup;  // the writer sleeps on it
  std::deque<std::vector<std::uint8_t>> queue;
  bool close_requested = false;
  bool ended = false;

  void abort() {
    ended = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    wakeup.cancel();
  }
};

struct FakeBroker::Core {
  explicit Core(const asio::any_io_executor& ex) : acceptor(ex) {}
  tcp::acceptor acceptor;
  Handler handler;
  std::size_t accepted = 0;
  std::vector<FakeRequest> log;
  std::vector<std::weak_ptr<FakeSession>> sessions;
  bool stopped = false;
};

FakeSession::FakeSession(std::size_t id, std::unique_ptr<Io> io) : id_(id), io_(std::move(io)) {}
FakeSession::~FakeSession() = default;

void FakeSession::write(std::vector<std::uint8_t> bytes) {
  if (io_->ended || io_->close_requested) return;
  io_->queue.push_back(std::move(bytes));
  io_->wakeup.cancel();
}

void FakeSession::close() {
  io_->close_requested = true;
  io_->wakeup.cancel();
}

bool FakeSession::closed() const noexcept { return io_->ended || io_->close_requested; }

namespace {

asio::awaitable<void> run_later(std::weak_ptr<FakeSession> weak, std::chrono::milliseconds delay,
                                std::function<void(FakeSession&)> action) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
  const auto session = weak.lock();
  if (session && !session->closed()) action(*session);
}

}  // namespace

void FakeSession::later(std::chrono::milliseconds delay, std::function<void(FakeSession&)> action) {
  asio::co_spawn(io_->socket.get_executor(), run_later(self_, delay, std::move(action)), asio::detached);
}

void FakeSession::respond_with_correlation(const FakeRequest& r, std::int32_t correlation_id,
                                           std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> out;
  protocol::writer w(out);
  w.i32(0);
  w.i32(correlation_id);
  if (protocol::response_header_version(r.api_key, r.api_version) >= 1) w.uvarint(0);  // no tagged fields
  out.insert(out.end(), body.begin(), body.end());
  w.patch_i32(0, static_cast<std::int32_t>(out.size() - 4));
  write(std::move(out));
}

void FakeSession::respond(const FakeRequest& r, std::span<const std::uint8_t> body) {
  respond_with_correlation(r, r.correlation_id, body);
}

void FakeSession::answer_single_broker_metadata(const FakeRequest& r, std::uint16_t port, const std::string& topic,
                                                std::int32_t partitions, std::int32_t leader_epoch) {
  msg::MetadataResponse md;
  md.brokers.push_back({.node_id = 0, .host = "127.0.0.1", .port = static_cast<std::int32_t>(port)});
  md.cluster_id = "fake-cluster";
  md.controller_id = 0;
  msg::MetadataResponse::MetadataResponseTopic t;
  t.name = topic;
  for (std::int32_t i = 0; i < partitions; ++i) {
    msg::MetadataResponse::MetadataResponsePartition p;
    p.partition_index = i;
    p.leader_id = 0;
    p.leader_epoch = leader_epoch;
    p.replica_nodes = {0};
    p.isr_nodes = {0};
    t.partitions.push_back(p);
  }
  md.topics.push_back(std::move(t));
  respond(r, md);
}

void FakeSession::answer_api_versions(const FakeRequest& r) {
  msg::ApiVersionsResponse response;
  for (const auto& api : protocol::supported_apis) {
    msg::ApiVersionsResponse::ApiVersion v;
    v.api_key = api.api_key;
    v.min_version = api.min_version;
    v.max_version = api.max_version;
    response.api_keys.push_back(v);
  }
  respond(r, response);
}

namespace {

// Parses a request frame (after its size prefix); nullopt when the header does not decode.
std::optional<FakeRequest> parse_request(std::span<const std::uint8_t> frame) {
  protocol::reader rd(frame);
  FakeRequest r;
  r.api_key = rd.i16();
  r.api_version = rd.i16();
  r.correlation_id = rd.i32();
  const std::int16_t header_version = protocol::request_header_version(r.api_key, r.api_version);
  const auto client_id = rd.nullable_string();
  if (client_id) r.client_id = std::string(*client_id);
  if (header_version >= 2) rd.skip_tagged_fields();
  if (!rd.ok()) return std::nullopt;
  r.body.assign(frame.end() - static_cast<std::ptrdiff_t>(rd.remaining()), frame.end());
  return r;
}

}  // namespace

asio::awaitable<void> FakeBroker::write_loop(std::shared_ptr<FakeSession> session) {
  FakeSession::Io& io = *session->io_;
  for (;;) {
    while (!io.queue.empty() && !io.ended) {
      const std::vector<std::uint8_t> bytes = std::move(io.queue.front());
      io.queue.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(io.socket, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
      if (ec) io.abort();
    }
    if (io.ended || io.close_requested) break;
    boost::system::error_code ignored;
    io.wakeup.expires_at(asio::steady_timer::time_point::max());
    co_await io.wakeup.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
  if (!io.ended) {
    boost::system::error_code ignored;
    io.socket.shutdown(tcp::socket::shutdown_both, ignored);
    io.abort();
  }
}

asio::awaitable<void> FakeBroker::read_loop(std::shared_ptr<Core> core, std::shared_ptr<FakeSession> session) {
  FakeSession::Io& io = *session->io_;
  std::size_t index = 0;
  while (!io.ended) {
    std::array<std::uint8_t, 4> size_bytes{};
    boost::system::error_code ec;
    co_await asio::async_read(io.socket, asio::buffer(size_bytes), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    const auto size = static_cast<std::int32_t>(std::uint32_t{size_bytes[0]} << 24 | std::uint32_t{size_bytes[1]} << 16 |
                                                std::uint32_t{size_bytes[2]} << 8 | size_bytes[3]);
    if (size < 8 || size > max_request_bytes) break;
    std::vector<std::uint8_t> frame(static_cast<std::size_t>(size));
    co_await asio::async_read(io.socket, asio::buffer(frame), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    auto request = parse_request(frame);
    if (!request || core->stopped) break;
    request->connection = session->id();
    request->index = index++;
    core->log.push_back(*request);
    if (core->handler) {
      const Handler handler = core->handler;  // a copy: the handler may replace itself or stop()
      try {
        handler(*session, *request);
      } catch (const std::exception& e) {
        // A broken handler is a broken test: say so instead of going silent.
        ADD_FAILURE() << "FakeBroker handler threw on " << request->api_key << " v" << request->api_version << ": "
                      << e.what();
        break;
      }
    } else if (request->api_key == msg::ApiVersionsRequest::api_key) {
      session->answer_api_versions(*request);
    }
  }
  // The client closed (or sent something unparsable): let the writer finish and close.
  session->close();
}

FakeBroker::FakeBroker(asio::any_io_executor executor) : core_(std::make_shared<Core>(executor)) {
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  core_->acceptor.open(ep.protocol());
  core_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  core_->acceptor.bind(ep);
  core_->acceptor.listen();
  asio::co_spawn(executor, accept_loop(core_), asio::detached);
}

FakeBroker::~FakeBroker() { stop(); }

asio::awaitable<void> FakeBroker::accept_loop(std::shared_ptr<Core> core) {
  while (!core->stopped) {
    boost::system::error_code ec;
    tcp::socket socket = co_await core->acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec || core->stopped) break;
    socket.set_option(tcp::no_delay(true), ec);
    const auto ex = socket.get_executor();
    auto io = std::make_unique<FakeSession::Io>(std::move(socket));
    // make_shared cannot reach the private constructor.
    std::shared_ptr<FakeSession> session(new FakeSession(core->accepted++, std::move(io)));
    session->self_ = session;
    core->sessions.push_back(session);
    asio::co_spawn(ex, read_loop(core, session), asio::detached);
    asio::co_spawn(ex, write_loop(session), asio::detached);
  }
}

void FakeBroker::on_request(Handler handler) { core_->handler = std::move(handler); }

void FakeBroker::script(std::vector<Handler> steps, Handler then) {
  auto seen = std::make_shared<std::map<std::size_t, std::size_t>>();  // connection -> scripted requests so far
  core_->handler = [steps = std::move(steps), then = std::move(then), seen](FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    const std::size_t n = (*seen)[r.connection]++;
    if (n < steps.size()) {
      if (steps[n]) steps[n](s, r);
    } else if (then) {
      then(s, r);
    }
  };
}

std::uint16_t FakeBroker::port() const noexcept {
  boost::system::error_code ec;
  const auto ep = core_->acceptor.local_endpoint(ec);
  return ec ? std::uint16_t{0} : ep.port();
}

std::size_t FakeBroker::accepted() const noexcept { return core_->accepted; }

const std::vector<FakeRequest>& FakeBroker::requests() const noexcept { return core_->log; }

void FakeBroker::stop() {
  if (core_->stopped) return;
  core_->stopped = true;
  core_->handler = nullptr;
  boost::system::error_code ignored;
  core_->acceptor.close(ignored);
  for (const auto& weak : core_->sessions) {
    if (const auto s = weak.lock()) s->io_->abort();
  }
  core_->sessions.clear();
}

}  // namespace asiokafka::test
