// consumer_bench: asiokafka::Consumer, driven as a high-throughput user drives it: partitions
// assigned by hand, one coroutine calling getmany() in a loop and looking at every record's
// value (counting records and bytes), on one io_context thread. For the latency runs, our
// paced Producer (on an io_context thread of its own) and our stamped-record consumer.
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/producer.hpp"
#include "consumer_bench.hpp"
#include "payload.hpp"

namespace asiokafka::bench {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::uint64_t kStallNs = 30'000'000'000;  // no record for this long: the run failed

ConsumerConfig config_of(const ConsumeSpec& spec) {
  ConsumerConfig c;
  c.bootstrap_servers = spec.bootstrap;
  c.client_id = "consumer_bench";
  c.fetch_min_bytes = spec.fetch_min_bytes;
  c.fetch_max_bytes = spec.fetch_max_bytes;
  c.fetch_max_wait = std::chrono::milliseconds(spec.fetch_wait_ms);
  c.max_partition_fetch_bytes = spec.partition_fetch_bytes;
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.enable_auto_commit = false;  // no group_id anyway: nothing is committed
  c.check_crcs = spec.check_crcs;
  c.fetch_buffer_memory = spec.buffer_bytes;
  return c;
}

std::vector<TopicPartition> partitions_of(const ConsumeSpec& spec) {
  std::vector<TopicPartition> tps;
  for (int p = 0; p < spec.partitions; ++p) tps.emplace_back(spec.topic, p);
  return tps;
}

// Reads the whole topic from offset 0. The window runs from the end of start() (connected,
// metadata known; librdkafka's starts once it knows the leaders) to the last record: offset
// lookups and the first fetches are in it.
asio::awaitable<void> consume_body(const ConsumeSpec& spec, RunResult& r) {
  const auto ex = co_await asio::this_coro::executor;
  Consumer consumer(ex, config_of(spec));
  consumer.assign(partitions_of(spec));
  co_await consumer.start();
  const std::uint64_t t0 = monotonic_ns();
  const std::uint64_t cpu0 = process_threads_cpu_ns();
  const std::uint64_t io0 = this_thread_cpu_ns();
  const GetManyOptions opts{.timeout = 1s, .max_records = spec.poll_records};
  std::uint64_t records = 0, bytes = 0, last_progress = t0;
  while (records < spec.records) {
    const RecordBatches batches = co_await consumer.getmany(opts);
    const std::uint64_t now = monotonic_ns();
    if (batches.empty()) {
      if (now - last_progress > kStallNs) throw std::runtime_error("no record for 30 s");
      continue;
    }
    last_progress = now;
    for (const auto& partition : batches) {
      for (const ConsumerRecord& rec : partition.second) {
        ++records;
        if (rec.value) bytes += rec.value->size();
      }
    }
  }
  const std::uint64_t t1 = monotonic_ns();
  r.cpu_ns = process_threads_cpu_ns() - cpu0;
  r.io_thread_cpu_ns = this_thread_cpu_ns() - io0;
  r.seconds = static_cast<double>(t1 - t0) / 1e9;
  r.records = records;
  co_await consumer.stop();
  if (records != spec.records || bytes != records * spec.value_size) {
    set_error(r, "read " + std::to_string(records) + " records / " + std::to_string(bytes) + " B, expected " +
                     std::to_string(spec.records) + " of " + std::to_string(spec.value_size) + " B");
  }
}

// Open loop: record i is due at t0 + i/rate and carries that time; sent with linger 0.
asio::awaitable<void> paced_body(const ConsumeSpec& spec, PacedProducer& p) {
  const auto ex = co_await asio::this_coro::executor;
  ProducerConfig config;
  config.bootstrap_servers = spec.bootstrap;
  config.client_id = "consumer_bench";
  config.acks = Acks::all;
  config.enable_idempotence = true;
  config.linger = 0ms;
  config.max_batch_size = 1'048'576;
  Producer producer(ex, config);
  co_await producer.start();
  PayloadGenerator gen;
  std::string value = gen.next(spec.value_size);
  asio::steady_timer tick(ex);
  const double period_ns = 1e9 / spec.rate;
  const std::uint64_t total = spec.warmup + spec.records;
  for (std::uint64_t i = 0; i < total && !p.release.load(); ++i) {
    const std::uint64_t due = p.t0 + static_cast<std::uint64_t>(static_cast<double>(i) * period_ns);
    if (i == spec.warmup) p.cpu0 = process_threads_cpu_ns();
    std::uint64_t now = monotonic_ns();
    if (now < due) {
      tick.expires_after(std::chrono::nanoseconds(due - now));
      co_await tick.async_wait(asio::use_awaitable);
      now = monotonic_ns();
    }
    if (i >= spec.warmup && now > due && now - due > p.lag_max_ns) p.lag_max_ns = now - due;
    stamp(value, due, i);
    const DeliveryHandle handle = co_await producer.send(spec.topic, value);
    handle.async_wait([&p](error_code ec, RecordMetadata) {
      if (ec) ++p.failed;
    });
  }
  co_await producer.flush();
  // Alive (and its CPU counted) until the harness has read the process's CPU.
  while (!p.release.load()) {
    tick.expires_after(5ms);
    co_await tick.async_wait(asio::use_awaitable);
  }
  co_await producer.stop();
}

asio::awaitable<void> stamped_body(const ConsumeSpec& spec, LatencySink& sink, const std::function<void()>& ready,
                                   const std::function<void()>& done) {
  const auto ex = co_await asio::this_coro::executor;
  Consumer consumer(ex, config_of(spec));
  consumer.assign(partitions_of(spec));
  co_await consumer.start();
  ready();
  const GetManyOptions opts{.timeout = 100ms, .max_records = spec.poll_records};
  std::uint64_t last_progress = monotonic_ns();
  while (!sink.complete()) {
    const RecordBatches batches = co_await consumer.getmany(opts);
    const std::uint64_t now = monotonic_ns();  // handed to the application now
    if (batches.empty()) {
      if (now - last_progress > kStallNs) throw std::runtime_error("no record for 30 s");
      continue;
    }
    last_progress = now;
    for (const auto& partition : batches) {
      for (const ConsumerRecord& rec : partition.second) {
        if (rec.value) sink.add(rec.value->data(), rec.value->size(), now);
      }
    }
  }
  done();
  co_await consumer.stop();
}

// Runs `body` on a fresh single-threaded io_context; its exception is rethrown.
void run_io(asio::awaitable<void> body) {
  asio::io_context io(1);
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(body), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

RunResult consume_ours(const ConsumeSpec& spec) {
  RunResult r;
  try {
    run_io(consume_body(spec, r));
  } catch (const std::exception& e) {
    set_error(r, e.what());
    return r;
  }
  r.ok = r.error[0] == '\0';
  return r;
}

void produce_paced_ours(const ConsumeSpec& spec, PacedProducer& p) {
  try {
    run_io(paced_body(spec, p));
  } catch (const std::exception& e) {
    p.error = e.what();
  }
}

void consume_stamped_ours(const ConsumeSpec& spec, LatencySink& sink, const std::function<void()>& ready,
                          const std::function<void()>& done) {
  run_io(stamped_body(spec, sink, ready, done));
}

}  // namespace asiokafka::bench
