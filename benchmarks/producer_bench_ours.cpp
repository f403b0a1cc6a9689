// producer_bench: asiokafka::Producer, driven as a high-throughput user would drive it. One
// coroutine sends; every record's DeliveryHandle gets a completion callback that counts the
// acknowledgement (librdkafka's delivery report callback is the same thing), so nothing waits
// on a single record and batches fill. Everything runs on one io_context thread.
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/producer.hpp"
#include "producer_bench.hpp"

namespace asiokafka::bench {
namespace {

namespace asio = boost::asio;

protocol::CompressionType codec_of(const std::string& name) {
  if (name == "none") return protocol::CompressionType::none;
  if (name == "gzip") return protocol::CompressionType::gzip;
  if (name == "snappy") return protocol::CompressionType::snappy;
  if (name == "lz4") return protocol::CompressionType::lz4;
  if (name == "zstd") return protocol::CompressionType::zstd;
  throw std::runtime_error("unknown compression " + name);
}

ProducerConfig config_of(const RunSpec& spec, int linger_ms) {
  ProducerConfig c;
  c.bootstrap_servers = spec.bootstrap;
  c.client_id = "producer_bench";
  c.max_in_flight_requests_per_connection = 5;
  c.acks = Acks::all;
  c.enable_idempotence = true;
  c.compression_type = codec_of(spec.compression);
  c.max_batch_size = spec.batch_bytes;
  c.linger = std::chrono::milliseconds(linger_ms);
  c.max_request_size = spec.request_bytes;
  c.buffer_memory = spec.buffer_memory;
  return c;
}

// Counts acknowledgements of one phase and wakes the sender when all arrived.
struct AckCounter {
  explicit AckCounter(asio::any_io_executor ex, std::uint64_t n) : target(n), done(ex) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  void count(const error_code& ec) {
    if (ec) {
      if (first_error.empty()) first_error = ec.message();
      ++failed;
    } else {
      ++acked;
    }
    if (acked + failed == target) {
      last_ack_ns = monotonic_ns();
      done.cancel();
    }
  }
  asio::awaitable<void> wait_all() {
    if (acked + failed < target) co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  std::uint64_t target;
  std::uint64_t acked = 0, failed = 0;
  std::uint64_t last_ack_ns = 0;
  std::string first_error;
  asio::steady_timer done;
};

// Sends `n` records as fast as send() accepts them (it waits for buffer room when
// buffer_memory is used up) and counts their acknowledgements.
asio::awaitable<void> send_burst(Producer& producer, const RunSpec& spec, std::uint64_t n,
                                 std::shared_ptr<AckCounter> acks) {
  const auto& payloads = *spec.payloads;
  std::size_t next = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const DeliveryHandle handle = co_await producer.send(spec.topic, payloads[next]);
    if (++next == payloads.size()) next = 0;
    // The counter outlives every callback (wait_all below): a plain pointer, as a user would
    // capture `this` or a reference (librdkafka's delivery report gets an opaque pointer).
    if (spec.per_record_ack) handle.async_wait([counter = acks.get()](error_code ec, RecordMetadata) { counter->count(ec); });
  }
  if (!spec.per_record_ack) {
    co_await producer.flush();
    acks->acked = n;  // flush does not tell failures apart: this mode does not check them
    acks->last_ack_ns = monotonic_ns();
    co_return;
  }
  co_await acks->wait_all();
}

asio::awaitable<void> throughput_body(const RunSpec& spec, RunResult& r) {
  const auto ex = co_await asio::this_coro::executor;
  Producer producer(ex, config_of(spec, spec.linger_ms));
  co_await producer.start();
  auto warm = std::make_shared<AckCounter>(ex, spec.warmup);
  co_await send_burst(producer, spec, spec.warmup, warm);

  auto acks = std::make_shared<AckCounter>(ex, spec.records);
  const std::uint64_t t0 = monotonic_ns();
  const std::uint64_t cpu0 = process_threads_cpu_ns();
  const std::uint64_t io0 = this_thread_cpu_ns();
  co_await send_burst(producer, spec, spec.records, acks);
  const std::uint64_t cpu1 = process_threads_cpu_ns();
  const std::uint64_t io1 = this_thread_cpu_ns();
  r.seconds = static_cast<double>(acks->last_ack_ns - t0) / 1e9;
  r.cpu_ns = cpu1 - cpu0;
  r.io_thread_cpu_ns = io1 - io0;
  r.records = acks->acked;
  r.failed = acks->failed + warm->failed;
  co_await producer.stop();
  if (r.failed) set_error(r, "records failed: " + (warm->failed ? warm->first_error : acks->first_error));
}

// Open loop: record i is due at t0 + i/rate whatever happened before; its latency runs from
// that scheduled time to its acknowledgement, so a sender that falls behind shows up in it.
asio::awaitable<void> latency_body(const RunSpec& spec, RunResult& r) {
  const auto ex = co_await asio::this_coro::executor;
  Producer producer(ex, config_of(spec, 0));
  co_await producer.start();
  const auto& payloads = *spec.payloads;
  const std::uint64_t total = spec.warmup + spec.records;
  auto acks = std::make_shared<AckCounter>(ex, total);
  auto latencies = std::make_shared<std::vector<std::uint64_t>>(spec.records);
  const double period_ns = 1e9 / spec.rate;
  asio::steady_timer tick(ex);
  const std::uint64_t t0 = monotonic_ns() + 1'000'000;
  std::uint64_t cpu0 = 0, io0 = 0, start_ns = 0, lag_max = 0;
  for (std::uint64_t i = 0; i < total; ++i) {
    const std::uint64_t due = t0 + static_cast<std::uint64_t>(static_cast<double>(i) * period_ns);
    if (i == spec.warmup) {
      cpu0 = process_threads_cpu_ns();
      io0 = this_thread_cpu_ns();
      start_ns = due;
    }
    std::uint64_t now = monotonic_ns();
    if (now < due) {
      tick.expires_after(std::chrono::nanoseconds(due - now));
      co_await tick.async_wait(asio::use_awaitable);
      now = monotonic_ns();
    }
    if (i >= spec.warmup && now > due && now - due > lag_max) lag_max = now - due;
    const DeliveryHandle handle = co_await producer.send(spec.topic, payloads[i % payloads.size()]);
    const std::uint64_t slot = i >= spec.warmup ? i - spec.warmup : UINT64_MAX;
    handle.async_wait([acks, latencies, slot, due](error_code ec, RecordMetadata) {
      if (slot != UINT64_MAX) (*latencies)[slot] = monotonic_ns() - due;
      acks->count(ec);
    });
  }
  co_await acks->wait_all();
  r.seconds = static_cast<double>(acks->last_ack_ns - start_ns) / 1e9;
  r.cpu_ns = process_threads_cpu_ns() - cpu0;
  r.io_thread_cpu_ns = this_thread_cpu_ns() - io0;
  r.records = acks->acked >= spec.warmup ? acks->acked - spec.warmup : 0;
  r.failed = acks->failed;
  r.send_lag_max_us = static_cast<double>(lag_max) / 1e3;
  co_await producer.stop();
  if (r.failed) {
    set_error(r, "records failed: " + acks->first_error);
  } else {
    summarize_latency(*latencies, r);
  }
}

}  // namespace

RunResult run_ours(const RunSpec& spec) {
  RunResult r;
  asio::io_context io(1);
  std::exception_ptr failure;
  auto body = spec.mode == Mode::throughput ? throughput_body(spec, r) : latency_body(spec, r);
  asio::co_spawn(io, std::move(body), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      set_error(r, e.what());
      return r;
    }
  }
  r.ok = r.failed == 0 && r.error[0] == '\0';
  return r;
}

}  // namespace asiokafka::bench
