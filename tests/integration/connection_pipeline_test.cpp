// net::connection's request path against the rig's broker: 10,000 pipelined requests on one
// connection within the in-flight budget, cancelling one in-flight request while the
// connection and a request behind it go on, a large Metadata, send after close.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;

using Target = HostPort;

Target split(const std::string& address) { return split_host_port(address); }

// Alternates two APIs so that a mismatched response could not decode by chance. Returns what
// went wrong, or "".
asio::awaitable<std::string> one_request(net::connection& conn, int i) {
  if (i % 2 == 0) {
    msg::ApiVersionsRequest request;  // Kafka rejects an empty software name (KIP-511)
    request.client_software_name = "asiokafka-test";
    request.client_software_version = "1";
    const auto r = co_await conn.send(request);
    if (!r) co_return r.error().message;
    if (r.value()->error_code != 0 || r.value()->api_keys.empty()) co_return "bad ApiVersions";
  } else {
    const msg::MetadataRequest request{};
    const auto r = co_await conn.send(request);
    if (!r) co_return r.error().message;
    if (!r.value()->cluster_id) co_return "bad Metadata";
  }
  co_return std::string();
}

struct Tally {
  int ok = 0;
  int failed = 0;
  std::string first_error;
  std::size_t max_in_flight = 0;  // the largest in_flight() seen while requests ran
  std::size_t samples = 0;
  int done() const { return ok + failed; }
};

// Starts `n` requests as concurrent coroutines on one connection, then samples in_flight()
// until they have all completed (each completion samples it too) and closes the connection.
asio::awaitable<void> run_concurrent(Target target, net::connection_options options, int n, Tally& tally) {
  auto ex = co_await asio::this_coro::executor;
  auto connected = co_await net::connect(ex, target.host, target.port, std::move(options));
  if (!connected) {
    tally.first_error = "connect failed: " + connected.error().message;
    co_return;
  }
  auto conn = std::make_shared<net::connection>(std::move(connected).value());
  auto sample = [&tally, conn] {
    tally.max_in_flight = std::max(tally.max_in_flight, conn->in_flight());
    ++tally.samples;
  };
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(ex, one_request(*conn, i), [&tally, sample](std::exception_ptr e, std::string error) {
      if (e) error = "exception";
      if (error.empty()) {
        ++tally.ok;
      } else if (++tally.failed == 1) {
        tally.first_error = error;
      }
      sample();
    });
  }
  // Bounded in time by run_for's limit and in count here (120 s of 1 ms pauses).
  asio::steady_timer pause(ex);
  for (int i = 0; i < 120'000 && tally.done() < n; ++i) {
    sample();
    pause.expires_after(1ms);
    co_await pause.async_wait(use_awaitable);
  }
  co_await conn->close();
}

// 10,000 requests from 10,000 concurrent coroutines on one connection: each is answered with
// its own response (the multiplexer checks correlation ids in order), and no more than
// max_in_flight_requests are on the wire at any time.
TEST(ConnectionRealBroker, TenThousandConcurrentRequests) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto target = split(rig.node(1).listener("PLAINTEXT"));
  constexpr int n = 10'000;
  net::connection_options options;
  options.max_in_flight_requests = 5;
  asio::io_context io;
  Tally tally;
  asio::co_spawn(io, run_concurrent(target, options, n, tally), asio::detached);
  io.run_for(120s);
  EXPECT_EQ(tally.done(), n) << "not every request completed";
  EXPECT_EQ(tally.ok, n) << tally.first_error;
  EXPECT_EQ(tally.failed, 0) << tally.first_error;
  EXPECT_GT(tally.samples, static_cast<std::size_t>(n));
  EXPECT_LE(tally.max_in_flight, options.max_in_flight_requests) << "the in-flight budget was exceeded";
  EXPECT_GE(tally.max_in_flight, 2u) << "the requests were never pipelined";
}

asio::awaitable<void> create_topic(net::connection& conn, const std::string& name, int partitions) {
  msg::CreateTopicsRequest request;
  msg::CreateTopicsRequest::CreatableTopic topic;
  topic.name = name;
  topic.num_partitions = partitions;
  topic.replication_factor = 1;
  request.topics.push_back(topic);
  auto sent = co_await conn.send(request);
  const auto r = unwrap(std::move(sent));
  if (r->topics.size() != 1 || (r->topics[0].error_code != 0 && r->topics[0].error_code != 36)) {
    throw std::runtime_error("CreateTopics failed with " + std::to_string(r->topics.empty() ? -1 : r->topics[0].error_code));
  }
}

std::string unique_name(const std::string& prefix) {
  return prefix + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// Fetch v12 at most: v13 names topics by id.
constexpr std::int16_t fetch_by_name_max = 12;

/// A request sent from a coroutine of its own (co_spawn). Its completion handler owns it, so
/// the request outlives its send whichever way the test returns meanwhile.
template <class Request>
struct SpawnedSend {
  SpawnedSend(Request r, std::int16_t max_version) : request(std::move(r), Request::min_version, max_version) {}
  net::typed_request<Request> request;
  std::optional<net::failure> result;  // set when the send completes
};

template <class Request>
std::shared_ptr<SpawnedSend<Request>> spawn_send(const asio::any_io_executor& ex, net::connection& conn, Request r,
                                                 std::int16_t max_version, asio::cancellation_slot slot = {}) {
  auto s = std::make_shared<SpawnedSend<Request>>(std::move(r), max_version);
  asio::co_spawn(ex, conn.send(s->request), asio::bind_cancellation_slot(slot, [s](std::exception_ptr e, net::failure f) {
                   s->result = e ? net::failure(std::make_error_code(std::errc::state_not_recoverable), "threw")
                                 : std::move(f);
                 }));
  return s;
}

// A Fetch that the broker parks (max_wait_ms on an empty partition) is surely in flight;
// cancelling its send abandons it with operation_canceled (maybe sent), while a request
// queued behind it and requests after it still succeed on the same connection.
asio::awaitable<std::string> cancel_in_flight(Target target) {
  auto ex = co_await asio::this_coro::executor;
  net::connection_options options;  // a named local: no class-type temporary inside co_await (GCC 12)
  auto connected = co_await net::connect(ex, target.host, target.port, options);
  net::connection conn = unwrap(std::move(connected));
  const std::string topic = unique_name("conn-cancel");
  co_await create_topic(conn, topic, 1);

  msg::FetchRequest fetch;
  fetch.max_wait_ms = 1500;
  fetch.min_bytes = 1;
  msg::FetchRequest::FetchTopic ft;
  ft.topic = topic;
  msg::FetchRequest::FetchPartition fp;
  fp.partition = 0;
  fp.partition_max_bytes = 1 << 20;
  ft.partitions.push_back(fp);
  fetch.topics.push_back(ft);
  std::string log;
  for (int attempt = 0; attempt < 20; ++attempt) {  // until the topic's leader is known
    net::typed_request<msg::FetchRequest> warmup(fetch, msg::FetchRequest::min_version, fetch_by_name_max);
    if (const net::failure f = co_await conn.send(warmup)) co_return "warm-up Fetch failed: " + f.message;
    const auto& r = warmup.message();
    if (!r.responses.empty() && !r.responses[0].partitions.empty() && r.responses[0].partitions[0].error_code == 0) {
      break;
    }
    asio::steady_timer pause(ex, 200ms);
    co_await pause.async_wait(use_awaitable);
  }

  // The parked Fetch, with a cancellation slot of our own.
  asio::cancellation_signal cancel;
  const auto start = std::chrono::steady_clock::now();
  const auto parked = spawn_send(ex, conn, fetch, fetch_by_name_max, cancel.slot());
  std::shared_ptr<SpawnedSend<msg::MetadataRequest>> behind;
  // An early return first ends the spawned sends: `cancel` must outlive the send bound to it.
  auto give_up = [&](std::string why) -> asio::awaitable<std::string> {
    co_await conn.close();
    co_await eventually_async([&] { return parked->result && (!behind || behind->result); }, 5s);
    co_return why;
  };
  if (!co_await eventually_async([&conn] { return conn.in_flight() == 1; }, 1s)) {
    co_return co_await give_up("the Fetch was never written");
  }
  // A request behind it: the broker answers it only after the parked Fetch.
  behind = spawn_send(ex, conn, msg::MetadataRequest(), msg::MetadataRequest::max_version);
  if (!co_await eventually_async([&conn] { return conn.in_flight() == 2; }, 1s)) {
    co_return co_await give_up("Metadata was never written");
  }

  cancel.emit(asio::cancellation_type::terminal);
  if (!co_await eventually_async([&parked] { return parked->result.has_value(); }, 1s)) {
    co_return co_await give_up("the cancelled send did not complete");
  }
  if (std::chrono::steady_clock::now() - start > 1s) log += "cancel took too long (the Fetch was answered?); ";
  const net::failure& cancelled = *parked->result;
  if (cancelled.code != std::errc::operation_canceled) {
    log += "cancelled send ended with " + cancelled.code.message() + ": " + cancelled.message + "; ";
  }
  if (cancelled.sent != net::delivery::maybe_sent) log += "a written request cancelled is not maybe_sent; ";
  if (!conn.is_open()) log += "connection closed by the cancel; ";

  // The broker answers the parked Fetch first; that response is read and dropped.
  if (!co_await eventually_async([&behind] { return behind->result.has_value(); }, 10s)) {
    co_return co_await give_up(log + "the request behind the cancelled one never completed");
  }
  if (*behind->result) {
    log += "the request behind the cancelled one failed: " + behind->result->message + "; ";
  } else if (!behind->request.message().cluster_id) {
    log += "the request behind the cancelled one has no cluster id; ";
  }
  const msg::MetadataRequest md_request{};
  const auto md = co_await conn.send(md_request);
  if (!md) {
    log += "metadata after cancel failed: " + md.error().message + "; ";
  } else if (!md.value()->cluster_id) {
    log += "metadata after cancel has no cluster id; ";
  }
  msg::ApiVersionsRequest av_request;
  av_request.client_software_name = "asiokafka-test";
  av_request.client_software_version = "1";
  const auto av = co_await conn.send(av_request);
  if (!av || av.value()->error_code != 0) log += "ApiVersions after cancel failed; ";
  if (conn.pending() != 0) log += "requests left pending; ";
  co_await conn.close();
  co_return log;
}

TEST(ConnectionRealBroker, CancellingOneInFlightSendLeavesTheConnectionUsable) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_EQ(run_async(cancel_in_flight(split(rig.node(1).listener("PLAINTEXT"))), 60s), "");
}

}  // namespace
}  // namespace asiokafka::test
