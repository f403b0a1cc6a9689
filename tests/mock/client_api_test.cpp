// The Asio conventions of asiokafka::Client's operations against librdkafka's mock cluster:
// every completion token form (default co_await, as_tuple, callbacks, use_future from another
// thread, deferred launched later), cancellation as operation_aborted, executor_type and
// get_executor (also on a moved-from client), use from a coroutine on another io_context and
// thread, and the spellings users naturally write (temporaries, string literals, loops,
// lambdas), which the ASan build runs: the GCC 12 bug of docs/design.md must not reach them.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/mock_cluster.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple_token = asio::as_tuple(asio::use_awaitable);

static_assert(std::is_same_v<Client::executor_type, asio::any_io_executor>);
// The per-call argument types users brace-initialise inside co_await expressions are not
// aggregates (GCC 12 destroys such aggregate temporaries twice): see docs/design.md.
static_assert(!std::is_aggregate_v<msg::MetadataRequest>);
static_assert(!std::is_aggregate_v<msg::FetchRequest>);
static_assert(!std::is_aggregate_v<msg::HeartbeatRequest>);

ClientConfig config_for(const MockCluster& mock) {
  ClientConfig c;
  c.bootstrap_servers = mock.bootstrap();
  c.request_timeout = 5s;
  c.connect_timeout = 3s;
  c.retry_backoff = 20ms;
  c.reconnect_backoff = 20ms;
  c.reconnect_backoff_max = 200ms;
  return c;
}

TEST(ClientApi, AsTupleGivesTheErrorCodeWithoutExceptions) {
  MockCluster mock(1);
  auto body = [&]() -> asio::awaitable<bool> {
    auto config = config_for(mock);
    config.request_timeout = 500ms;
    Client client(co_await asio::this_coro::executor, config);
    auto started = co_await client.start(tuple_token);
    EXPECT_FALSE(std::get<0>(started)) << std::get<0>(started).message();
    const msg::MetadataRequest md;
    auto ok = co_await client.send_to(1, md, tuple_token);
    EXPECT_FALSE(std::get<0>(ok));
    EXPECT_FALSE(std::get<1>(ok)->brokers.empty());
    mock.set_rtt(1, 2s);
    auto slow = co_await client.send_to(1, md, tuple_token);
    EXPECT_EQ(std::get<0>(slow), client_errc::timeout) << std::get<0>(slow).message();
    mock.set_rtt(1, 0ms);
    auto c = co_await client.find_coordinator(CoordinatorType::group, "g", tuple_token);
    EXPECT_FALSE(std::get<0>(c));
    EXPECT_EQ(std::get<1>(c).node_id, 1);
    auto closed = co_await client.close(tuple_token);
    EXPECT_FALSE(std::get<0>(closed));
    auto after = co_await client.send_to(1, md, tuple_token);
    EXPECT_EQ(std::get<0>(after), client_errc::client_closed);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientApi, DefaultTokenThrowsAsiokafkaErrorWithTheMessage) {
  auto body = []() -> asio::awaitable<std::string> {
    ClientConfig config;
    config.bootstrap_servers = "127.0.0.1:1";  // nothing listens on port 1: refused at once
    config.connect_timeout = 2s;
    Client client(co_await asio::this_coro::executor, config);
    std::string what;
    try {
      co_await client.start();
      ADD_FAILURE() << "started without a broker";
    } catch (const asiokafka::error& e) {
      EXPECT_EQ(e.code(), client_errc::connection_failed);
      what = e.what();
    }
    co_await client.close();
    co_return what;
  };
  const std::string what = run_async(body(), 30s);
  EXPECT_NE(what.find("127.0.0.1:1"), std::string::npos) << what;
}

TEST(ClientApi, CallbacksCompleteOnTheClientsExecutor) {
  MockCluster mock(1);
  asio::io_context io;
  Client client(io.get_executor(), config_for(mock));
  std::vector<std::string> events;
  client.start([&](error_code ec) {
    events.push_back("started:" + ec.message());
    const msg::MetadataRequest md;
    client.send_to(1, md, [&](error_code ec2, response<msg::MetadataResponse> r) {
      EXPECT_TRUE(io.get_executor().running_in_this_thread());
      events.push_back("metadata:" + std::to_string(r->brokers.size()) + (ec2 ? ":" + ec2.message() : ""));
      client.close([&](error_code ec3) { events.push_back("closed:" + ec3.message()); });
    });
  });
  io.run_for(20s);
  EXPECT_EQ(events, (std::vector<std::string>{"started:Success", "metadata:1", "closed:Success"}));
}

TEST(ClientApi, UseFutureFromAnotherThread) {
  MockCluster mock(1);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    Client client(io.get_executor(), config_for(mock));
    // This thread is not the client's: the operations hop to its executor.
    client.start(asio::use_future).get();
    const msg::MetadataRequest md;
    auto md_future = client.send_to(1, md, asio::use_future);
    ASSERT_EQ(md_future.wait_for(20s), std::future_status::ready);
    EXPECT_EQ(md_future.get()->brokers.size(), 1u);
    // A failure reaches the future as an exception.
    auto failing = client.send_to(7, md, asio::use_future);  // no broker 7
    ASSERT_EQ(failing.wait_for(20s), std::future_status::ready);
    EXPECT_THROW(failing.get(), boost::system::system_error);
    client.close(asio::use_future).get();
  }
  work.reset();
  runner.join();
}

TEST(ClientApi, DeferredOperationsCaptureTheirArgumentsAndRunWhenLaunched) {
  MockCluster mock(2);
  mock.create_topic("deferred", 2, 1);
  mock.set_partition_leader("deferred", 1, 2);
  auto body = [&]() -> asio::awaitable<std::int32_t> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    // Built from temporaries that are gone before the operation starts.
    auto op = [&] {
      std::string topic = "deferred";
      msg::FetchRequest fetch;
      fetch.max_wait_ms = 0;
      msg::FetchRequest::FetchTopic t;
      t.topic = topic;
      t.partitions.push_back({.partition = 1, .fetch_offset = 0, .partition_max_bytes = 1 << 16});
      fetch.topics.push_back(std::move(t));
      return client.send_to_leader(topic, 1, std::move(fetch), asio::deferred);
    }();
    auto answer = co_await std::move(op)(asio::use_awaitable);
    co_await client.close();
    co_return answer.node_id;
  };
  EXPECT_EQ(run_async(body(), 30s), 2);
}

TEST(ClientApi, CancellationEndsOneOperationWithOperationAborted) {
  MockCluster mock(1);
  auto body = [&]() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Client client(ex, config_for(mock));
    co_await client.start();
    const msg::MetadataRequest md;
    mock.set_rtt(1, 3s);
    asio::cancellation_signal cancel;
    asio::steady_timer trigger(ex, 100ms);
    trigger.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
    const auto start = clock_type::now();
    auto r = co_await client.send_to(1, md, asio::bind_cancellation_slot(cancel.slot(), tuple_token));
    EXPECT_EQ(std::get<0>(r), asio::error::operation_aborted) << std::get<0>(r).message();
    EXPECT_LT(clock_type::now() - start, 2s) << "the cancelled request was not cancelled";
    // The default token throws it, with the code Asio uses.
    asio::steady_timer trigger2(ex, 100ms);
    trigger2.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
    try {
      (void)co_await client.send_to(1, md, asio::bind_cancellation_slot(cancel.slot(), default_token));
      ADD_FAILURE() << "not cancelled";
    } catch (const asiokafka::error& e) {
      EXPECT_EQ(e.code(), std::errc::operation_canceled) << e.what();
    }
    mock.set_rtt(1, 0ms);
    // The connection and the client go on.
    auto after = co_await client.send_to(1, md, tuple_token);
    EXPECT_FALSE(std::get<0>(after)) << std::get<0>(after).message();
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientApi, MovedFromClientKeepsItsExecutorAndFailsWithClientClosed) {
  MockCluster mock(1);
  auto body = [&]() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Client a(ex, config_for(mock));
    Client b(std::move(a));
    EXPECT_TRUE(a.get_executor() == ex);  // use after move is the point of the test
    auto r = co_await a.start(tuple_token);
    EXPECT_EQ(std::get<0>(r), client_errc::client_closed);
    EXPECT_THROW((void)a.config(), asiokafka::error);
    co_await b.start();
    co_await b.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClientApi, AwaitedFromACoroutineOnAnotherIoContextAndThread) {
  MockCluster mock(1);
  asio::io_context client_io;
  auto work = asio::make_work_guard(client_io);
  std::thread client_thread([&] { client_io.run(); });
  const auto client_thread_id = client_thread.get_id();
  Client client(client_io.get_executor(), config_for(mock));
  auto body = [&]() -> asio::awaitable<bool> {
    co_await client.start();
    const msg::MetadataRequest md;
    for (int i = 0; i < 20; ++i) {
      const auto r = co_await client.send_to(1, md);
      EXPECT_EQ(r->brokers.size(), 1u);
      // Resumed on the caller's io_context, not on the client's thread.
      EXPECT_NE(std::this_thread::get_id(), client_thread_id);
    }
    auto c = co_await client.find_coordinator(CoordinatorType::group, "threads", tuple_token);
    EXPECT_FALSE(std::get<0>(c));
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
  work.reset();
  client_thread.join();
}

msg::HeartbeatRequest heartbeat(const std::string& group) {
  msg::HeartbeatRequest r;
  r.group_id = group;
  r.member_id = "member";
  return r;
}

// What users write, as they write it: temporaries, literals, loops and lambdas, with the
// default token. Under ASan (the asan preset runs this binary) a double destruction or a
// dangling argument fails the test.
TEST(ClientApi, NaturalSpellingsWithTemporariesAreSafe) {
  MockCluster mock(2);
  mock.create_topic("spellings", 2, 1);
  mock.set_coordinator("group", "natural-group", 2);
  auto body = [&]() -> asio::awaitable<std::size_t> {
    Client client(co_await asio::this_coro::executor, config_for(mock));
    co_await client.start();
    std::size_t answers = 0;
    for (int i = 0; i < 3; ++i) {
      auto md = co_await client.send(msg::MetadataRequest{});
      answers += md->brokers.size() == 2 ? 1 : 0;
      auto leader = co_await client.send_to_leader(std::string("spell") + "ings", i % 2, msg::FetchRequest{});
      answers += leader.node_id > 0 ? 1 : 0;
      auto c = co_await client.find_coordinator(CoordinatorType::group, std::string("natural-") + "group");
      answers += c.node_id == 2 ? 1 : 0;
      auto hb = co_await client.send_to_coordinator(CoordinatorType::group, "natural-group", heartbeat("natural-group"));
      answers += hb.node_id == 2 ? 1 : 0;
    }
    // Inside a lambda coroutine, taking its arguments by value.
    auto in_lambda = [&client](std::string topic, int partition) -> asio::awaitable<std::int32_t> {
      auto r = co_await client.send_to_leader(topic, partition, msg::FetchRequest{});
      co_return r.node_id;
    };
    for (int p = 0; p < 2; ++p) answers += co_await in_lambda("spellings", p) > 0 ? 1 : 0;
    const std::vector<std::string> topics{"spellings"};
    co_await client.refresh_metadata(topics);
    co_await client.close();
    co_return answers;
  };
  EXPECT_EQ(run_async(body(), 60s), 3u * 4u + 2u);
}

}  // namespace
}  // namespace asiokafka::test
