// Consumer group membership against librdkafka's mock cluster, with errors injected into the
// coordinator's answers (issue 11, "Behaviour": rejoin after REBALANCE_IN_PROGRESS,
// UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and coordinator moves, with backoff, never stuck in a
// loop or at generation -1; aiokafka #575, #727, #847). A stable member meets the errors, ends
// stable again with a valid generation, and consumes what is written afterwards; the JoinGroup
// requests the mock received are counted (bounded: no tight rejoin loop). A fatal error
// (GROUP_AUTHORIZATION_FAILED) fails getmany() and the group state instead.
//
// librdkafka 2.0's mock (also its master branch today): an injected JoinGroup, SyncGroup or
// FindCoordinator error comes in an answer with null in non-nullable fields (JoinGroup's
// protocol name, leader and member id; SyncGroup's assignment; the coordinator's host), which
// the member rightly refuses as malformed (the Java client does too; librdkafka's own reader
// takes null for empty). So only Heartbeat errors reach the member with their code here: the
// six codes are injected into Heartbeat; JoinGroup and SyncGroup get one case each, exercising
// failed join rounds (backoff, no loop, recovery). Each code's handling in a join or sync is
// covered by the sans-I/O tests (unit/classic_member_fault_test.cpp).
//
// Requests are counted from the mock's "mock" debug log ("Received JoinGroupRequestV5"): 2.0
// has no rd_kafka_mock_start_request_tracking yet. Its coordinator announces JoinGroup v0-5,
// SyncGroup v0-3, Heartbeat v0-3 and LeaveGroup v0-1 (the member negotiates down to them); the
// consumer's offset requests are capped as in consumer_mock_test.cpp. The mock waits 3 s
// before the first generation and session_timeout - 1 s before a later one.
#include "asiokafka/consumer.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/numbered_records.hpp"
#include "support/poll.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::int16_t join_key = msg::JoinGroupRequest::api_key;
constexpr std::int16_t sync_key = msg::SyncGroupRequest::api_key;
constexpr std::int16_t heartbeat_key = msg::HeartbeatRequest::api_key;
constexpr std::int32_t coordinator = 1;  // the mock broker made the group's coordinator
constexpr int partitions = 2;

// A mock cluster whose handle logs the mock's debug lines, counting the requests received per
// API name (support/mock_cluster.hpp keeps its handle quiet and has no such count).
class CountingMock {
 public:
  explicit CountingMock(int brokers) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_log_cb(conf, &CountingMock::on_log);
    if (rd_kafka_conf_set(conf, "debug", "mock", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(errstr);
    }
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (handle_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
    }
    cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
    if (cluster_ == nullptr) {
      rd_kafka_destroy(handle_);
      throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    }
    // The consumer's offset requests within what 2.0's mock decodes (consumer_mock_test.cpp).
    check(rd_kafka_mock_set_apiversion(cluster_, msg::ListOffsetsRequest::api_key, 2, 3));
    check(rd_kafka_mock_set_apiversion(cluster_, msg::OffsetFetchRequest::api_key, 1, 5));
    check(rd_kafka_mock_set_apiversion(cluster_, msg::OffsetCommitRequest::api_key, 2, 6));
  }
  ~CountingMock() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  CountingMock(const CountingMock&) = delete;
  CountingMock& operator=(const CountingMock&) = delete;

  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void create_topic(const std::string& topic, int count) {
    check(rd_kafka_mock_topic_create(cluster_, topic.c_str(), count, 3));
  }
  void set_group_coordinator(const std::string& group, std::int32_t broker) {
    check(rd_kafka_mock_coordinator_set(cluster_, "group", group.c_str(), broker));
  }
  /// The next `n` requests of `api_key` to `broker` are answered with `error`.
  void push_errors(std::int32_t broker, std::int16_t api_key, kafka_errc error, int n) {
    for (int i = 0; i < n; ++i) {
      check(rd_kafka_mock_broker_push_request_error_rtts(cluster_, broker, api_key, 1,
                                                         static_cast<rd_kafka_resp_err_t>(error), 0));
    }
  }
  /// Injected errors of `api_key` on `broker` not met yet.
  std::size_t pending(std::int32_t broker, std::int16_t api_key) const {
    std::size_t n = 0;
    check(rd_kafka_mock_broker_error_stack_cnt(cluster_, broker, api_key, &n));
    return n;
  }
  /// Requests of one API ("JoinGroup", "SyncGroup", "Heartbeat", ...) the mock received.
  int received(const std::string& api) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = received_.find(api);
    return it == received_.end() ? 0 : it->second;
  }

 private:
  static void check(rd_kafka_resp_err_t err) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(err));
  }
  // Called on the mock's thread for every log line.
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    (void)level;
    (void)facility;
    auto* self = static_cast<CountingMock*>(rd_kafka_opaque(rk));
    const std::string_view text(line);
    static constexpr std::string_view marker = ": Received ";
    const auto at = text.find(marker);
    if (self == nullptr || at == std::string_view::npos) return;
    const auto name_start = at + marker.size();
    const auto name_end = text.find("RequestV", name_start);
    if (name_end == std::string_view::npos) return;
    const std::lock_guard<std::mutex> lock(self->mutex_);
    ++self->received_[std::string(text.substr(name_start, name_end - name_start))];
  }

  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, int> received_;
};

ConsumerConfig group_config(const CountingMock& mock, const std::string& group) {
  ConsumerConfig c;
  c.bootstrap_servers = mock.bootstrap();
  c.group_id = group;
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.request_timeout = 5s;
  c.connect_timeout = 2s;
  c.retry_backoff = 100ms;
  c.retry_backoff_max = 1s;
  c.reconnect_backoff = 20ms;
  c.reconnect_backoff_max = 200ms;
  c.fetch_max_wait = 100ms;
  c.session_timeout = 3s;  // the mock's later rebalances wait session_timeout - 1 s
  c.heartbeat_interval = 300ms;
  c.auto_commit_interval = 300ms;
  return c;
}

using Seen = std::set<std::pair<std::int32_t, std::string>>;

// getmany() into `seen` until `done()` holds or `limit` passes; true when it held. With
// `errors`, every group error seen between the calls is noted (short calls: each error
// stays the member's last one for at least a heartbeat interval or a backoff).
template <class Done>
asio::awaitable<bool> read_while(Consumer& c, Seen& seen, Done done, std::chrono::milliseconds limit,
                                 std::vector<std::error_code>* errors = nullptr) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= deadline) co_return false;
    if (errors) {
      const std::error_code e = c.group_status().last_error;
      if (e && std::find(errors->begin(), errors->end(), e) == errors->end()) errors->push_back(e);
    }
    const RecordBatches batches = co_await c.getmany({.timeout = errors ? 10ms : 100ms});
    for (const auto& entry : batches) {
      for (const auto& r : entry.second) seen.emplace(r.partition, std::string(r.value->as_string()));
    }
  }
  co_return true;
}

bool has_numbers(const Seen& seen, int first, int n) {
  for (int p = 0; p < partitions; ++p) {
    for (int i = first; i < first + n; ++i) {
      if (seen.count({p, std::to_string(i)}) == 0) return false;
    }
  }
  return true;
}

bool stable(const Consumer& c) {
  const GroupStatus s = c.group_status();
  return s.state == GroupState::stable && s.generation >= 0 && s.assignment.size() == partitions;
}

struct Fault {
  std::int16_t api_key;
  const char* api;
  kafka_errc error;
  int count;  // how many answers in a row carry it
};

struct Outcome {
  bool first_stable = false;
  bool errors_met = false;
  steady::duration errors_took{};
  bool recovered = false;
  GroupStatus after;
  int joins_during = -1;   // JoinGroup requests from the injection to stable again
  bool new_records = false;
  GroupStatus end;
  int joins_after = -1;    // JoinGroup requests while the new records were read
  std::vector<std::error_code> errors;  // the member's last_error values during the fault
};

// For ctest's listing and failure messages.
void PrintTo(const Fault& f, std::ostream* os) {
  *os << f.count << " x " << f.api << " " << make_error_code(f.error).message();
}

class GroupMockFaults : public ::testing::TestWithParam<Fault> {};

TEST_P(GroupMockFaults, TheMemberRejoinsWithAValidGenerationAndKeepsConsuming) {
  const Fault fault = GetParam();
  CountingMock mock(3);
  const std::string topic = "gm-topic";
  const std::string group = "gm-group";
  mock.create_topic(topic, partitions);
  mock.set_group_coordinator(group, coordinator);
  for (int p = 0; p < partitions; ++p) ASSERT_TRUE(produce_numbered(mock.bootstrap(), topic, 0, 20, p, 30s));
  const int n = fault.count;
  auto body = [](ConsumerConfig cfg, std::string t, CountingMock& m, Fault f) -> asio::awaitable<Outcome> {
    Outcome out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{t});
    co_await c.start();
    Seen seen;
    out.first_stable = co_await read_while(c, seen, [&] { return stable(c) && has_numbers(seen, 0, 20); }, 30s);
    if (!out.first_stable) co_return out;
    const int joins_before = m.received("JoinGroup");
    // Join and SyncGroup errors need a rebalance to meet them: one heartbeat says so.
    if (f.api_key != heartbeat_key) m.push_errors(coordinator, heartbeat_key, kafka_errc::rebalance_in_progress, 1);
    m.push_errors(coordinator, f.api_key, f.error, f.count);
    const auto injected = steady::now();
    out.errors_met = co_await read_while(
        c, seen, [&] { return m.pending(coordinator, f.api_key) == 0 && m.pending(coordinator, heartbeat_key) == 0; },
        40s, &out.errors);
    out.errors_took = steady::now() - injected;
    // The mock counts an error as met before its answer reaches the member: a heartbeat that
    // succeeds after this point came after every faulty answer was handled.
    const auto met = std::chrono::system_clock::now();
    out.recovered = co_await read_while(
        c, seen, [&] { return stable(c) && c.group_status().last_heartbeat.value_or(met) > met; }, 40s, &out.errors);
    out.after = c.group_status();
    out.joins_during = m.received("JoinGroup") - joins_before;
    if (!out.recovered) co_return out;
    for (int p = 0; p < partitions; ++p) (void)produce_numbered(m.bootstrap(), t, 20, 20, p, 30s);
    out.new_records = co_await read_while(c, seen, [&] { return has_numbers(seen, 20, 20); }, 30s);
    out.end = c.group_status();
    out.joins_after = m.received("JoinGroup") - joins_before - out.joins_during;
    co_await c.stop();
    co_return out;
  };
  const Outcome o = run_async(body(group_config(mock, group), topic, mock, fault), 150s);
  ASSERT_TRUE(o.first_stable) << "the member never became stable before the fault";
  ASSERT_TRUE(o.errors_met) << "the injected " << fault.api << " errors were not all met";
  EXPECT_TRUE(o.recovered) << "not stable again: state " << static_cast<int>(o.after.state) << ", generation "
                           << o.after.generation << ", last error " << o.after.last_error_message;
  EXPECT_GE(o.after.generation, 0);
  const auto saw = [&o](std::error_code e) { return std::find(o.errors.begin(), o.errors.end(), e) != o.errors.end(); };
  if (fault.api_key == heartbeat_key) {
    EXPECT_TRUE(saw(make_error_code(fault.error))) << "the member never reported the injected error";
  } else {
    // See the file comment: 2.0's mock sends these in answers that do not decode.
    EXPECT_TRUE(saw(make_error_code(fault.error)) || saw(make_error_code(client_errc::malformed)))
        << "the member never reported a failed " << fault.api;
  }
  EXPECT_FALSE(o.after.member_id.empty());
  if (fault.api_key == join_key) {
    // Four failed joins in a row are at least 100 + 200 ms of backoff apart (the member's
    // rule for the mildest error, REBALANCE_IN_PROGRESS, whose first retry is immediate); a
    // tight loop meets them within milliseconds.
    EXPECT_GE(o.errors_took, 300ms) << "the failed joins were not backed off";
  }
  // Each injected error costs at most one join (plus the one it triggers and, for
  // UNKNOWN_MEMBER_ID, the rounds the mock spends on the member id it forgot).
  EXPECT_GE(o.joins_during, fault.api_key == join_key ? n + 1 : 0);
  EXPECT_LE(o.joins_during, n + 5) << "JoinGroup requests during the recovery: a rejoin loop";
  EXPECT_TRUE(o.new_records) << "records written after the recovery were not consumed";
  EXPECT_EQ(o.end.state, GroupState::stable);
  EXPECT_EQ(o.end.generation, o.after.generation) << "the group rebalanced again after the recovery";
  EXPECT_EQ(o.joins_after, 0) << "JoinGroup requests after the recovery";
}

std::vector<Fault> all_faults() {
  std::vector<Fault> out;
  for (const kafka_errc e : {kafka_errc::rebalance_in_progress, kafka_errc::unknown_member_id,
                             kafka_errc::illegal_generation, kafka_errc::not_coordinator,
                             kafka_errc::coordinator_not_available, kafka_errc::coordinator_load_in_progress}) {
    out.push_back(Fault{heartbeat_key, "Heartbeat", e, 2});
  }
  // Failed rounds (see the file comment): four joins in a row fail, and two syncs.
  out.push_back(Fault{join_key, "JoinGroup", kafka_errc::coordinator_load_in_progress, 4});
  out.push_back(Fault{sync_key, "SyncGroup", kafka_errc::rebalance_in_progress, 2});
  return out;
}

std::string fault_name(const ::testing::TestParamInfo<Fault>& info) {
  const char* code = "";
  switch (info.param.error) {
    case kafka_errc::rebalance_in_progress: code = "RebalanceInProgress"; break;
    case kafka_errc::unknown_member_id: code = "UnknownMemberId"; break;
    case kafka_errc::illegal_generation: code = "IllegalGeneration"; break;
    case kafka_errc::not_coordinator: code = "NotCoordinator"; break;
    case kafka_errc::coordinator_not_available: code = "CoordinatorNotAvailable"; break;
    case kafka_errc::coordinator_load_in_progress: code = "CoordinatorLoadInProgress"; break;
    default: code = "Other"; break;
  }
  return std::string(info.param.api) + "_" + code;
}

INSTANTIATE_TEST_SUITE_P(Errors, GroupMockFaults, ::testing::ValuesIn(all_faults()), fault_name);

// group_protocol consumer against a cluster without KIP-848 (librdkafka 2.0's mock has no
// ConsumerGroupHeartbeat, like a Kafka 3.x broker): get*() fails at once with a typed error
// whose message says what to do, and the member does not retry.
TEST(GroupMockFatal, TheConsumerProtocolWithoutKip848OnTheBrokerFailsTypedAndSaysWhy) {
  CountingMock mock(1);
  mock.create_topic("gm-848", partitions);
  struct Failure {
    std::error_code ec;
    std::string what;
    steady::duration took{};
    GroupStatus status;
  };
  auto body = [](ConsumerConfig cfg) -> asio::awaitable<Failure> {
    Failure out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{"gm-848"});
    co_await c.start();
    const auto start = steady::now();
    for (int i = 0; i < 100 && !out.ec; ++i) {
      try {
        (void)co_await c.getmany({.timeout = 200ms});
      } catch (const error& e) {
        out.ec = e.code();
        out.what = e.what();
      }
    }
    out.took = steady::now() - start;
    out.status = c.group_status();
    co_await c.stop();
    co_return out;
  };
  ConsumerConfig cfg = group_config(mock, "gm-848-group");
  cfg.group_protocol = GroupProtocol::consumer;
  const Failure f = run_async(body(std::move(cfg)), 60s);
  EXPECT_EQ(f.ec, make_error_code(client_errc::unsupported_version)) << f.ec.message() << ": " << f.what;
  EXPECT_NE(f.what.find("GroupProtocol::classic"), std::string::npos) << f.what;
  EXPECT_LT(f.took, 5s);
  EXPECT_EQ(f.status.state, GroupState::failed);
  EXPECT_EQ(f.status.protocol, GroupProtocol::consumer);
  EXPECT_EQ(mock.received("JoinGroup"), 0) << "fell back to the classic protocol silently";
}

// The fatal error is injected into Heartbeat: in a JoinGroup answer 2.0's mock would send it
// undecodable (file comment), and the member would retry it as a malformed answer.
TEST(GroupMockFatal, GroupAuthorizationFailedFailsGetmanyAndTheGroupState) {
  CountingMock mock(3);
  mock.create_topic("gm-fatal", partitions);
  mock.set_group_coordinator("gm-fatal-group", coordinator);
  for (int p = 0; p < partitions; ++p) ASSERT_TRUE(produce_numbered(mock.bootstrap(), "gm-fatal", 0, 20, p, 30s));
  struct Failure {
    bool first_stable = false;
    std::error_code ec;
    std::error_code again_ec;
    steady::duration took{};
    GroupStatus status;
    int joins_after = -1;
  };
  auto body = [](ConsumerConfig cfg, CountingMock& m) -> asio::awaitable<Failure> {
    Failure out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{"gm-fatal"});
    co_await c.start();
    Seen seen;
    out.first_stable = co_await read_while(c, seen, [&] { return stable(c) && has_numbers(seen, 0, 20); }, 30s);
    if (!out.first_stable) co_return out;
    const int joins_before = m.received("JoinGroup");
    m.push_errors(coordinator, heartbeat_key, kafka_errc::group_authorization_failed, 1);
    const auto start = steady::now();
    for (int i = 0; i < 100 && !out.ec; ++i) {
      auto r = co_await c.getmany({.timeout = 200ms}, asio::as_tuple(asio::use_awaitable));
      out.ec = std::get<0>(r);
    }
    out.took = steady::now() - start;
    out.status = c.group_status();
    // The failure stays: a later call fails the same way at once; no join is tried.
    auto again = co_await c.getmany({.timeout = 200ms}, asio::as_tuple(asio::use_awaitable));
    out.again_ec = std::get<0>(again);
    out.joins_after = m.received("JoinGroup") - joins_before;
    co_await c.stop();
    co_return out;
  };
  const Failure f = run_async(body(group_config(mock, "gm-fatal-group"), mock), 60s);
  ASSERT_TRUE(f.first_stable) << "the member never became stable before the fault";
  EXPECT_EQ(f.ec, make_error_code(kafka_errc::group_authorization_failed)) << f.ec.message();
  EXPECT_LT(f.took, 5s) << "getmany did not report the fatal error soon";
  EXPECT_EQ(f.again_ec, make_error_code(kafka_errc::group_authorization_failed)) << f.again_ec.message();
  EXPECT_EQ(f.status.state, GroupState::failed);
  EXPECT_EQ(f.status.last_error, make_error_code(kafka_errc::group_authorization_failed));
  EXPECT_EQ(f.joins_after, 0) << "the member rejoined after a fatal error";
  EXPECT_EQ(mock.pending(coordinator, heartbeat_key), 0u);
}

}  // namespace
}  // namespace asiokafka::test
