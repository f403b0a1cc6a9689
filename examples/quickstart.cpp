// Quickstart: connect to a broker, print what it reports about itself, produce records with
// asiokafka::Producer, then read them back with asiokafka::Consumer, saying how many and how
// fast.
//
//   quickstart [bootstrap] [records]   (default 127.0.0.1:9092 and 200000; rig/quickstart
//                                       passes the rig's bootstrap)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/probe.hpp"
#include "asiokafka/producer.hpp"
#include "asiokafka/version.hpp"

namespace asio = boost::asio;

// Sends `count` records of 100 bytes without a key as fast as the producer takes them
// (buffer_memory bounds what waits), counts the acknowledgements with a callback per record
// (like librdkafka's delivery reports), and reports the rate once flush() saw them all.
asio::awaitable<void> produce(std::string bootstrap, long count) {
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
  co_await producer.start();
  const std::string value(100, 'q');
  long acknowledged = 0;
  long failed = 0;
  std::string first_error;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    asiokafka::DeliveryHandle handle = co_await producer.send("quickstart", value);
    handle.async_wait([&](asiokafka::error_code ec, const asiokafka::RecordMetadata&) {
      if (!ec) {
        ++acknowledged;
      } else if (failed++ == 0) {
        first_error = ec.message();
      }
    });
  }
  co_await producer.flush();  // every record acknowledged (or failed)
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_await producer.stop();
  if (failed > 0) throw std::runtime_error(std::to_string(failed) + " records failed, the first with: " + first_error);
  std::printf("produced %ld records of 100 B to 'quickstart' in %.2f s: %.0f records/s, %.1f MB/s (acks=all, idempotent)\n",
              acknowledged, seconds, static_cast<double>(acknowledged) / seconds,
              static_cast<double>(acknowledged) * 100.0 / seconds / 1e6);
}

// Reads back what produce() wrote: every partition of 'quickstart' from `from` up to the end
// offsets it has now, with getmany() (up to 500 ms of waiting per call), and reports the rate.
asio::awaitable<void> consume(std::string bootstrap, std::map<asiokafka::TopicPartition, std::int64_t> from) {
  // The executor first: a braced config in the same expression as a co_await is destroyed
  // twice by GCC 12 (docs/design.md, "GCC 12").
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Consumer consumer(executor, {.bootstrap_servers = bootstrap});
  std::vector<asiokafka::TopicPartition> partitions;
  for (const auto& entry : from) partitions.push_back(entry.first);
  consumer.assign(partitions);
  co_await consumer.start();
  const auto end = co_await consumer.end_offsets(partitions);
  long expected = 0;
  for (const auto& entry : from) {
    consumer.seek(entry.first, entry.second);
    expected += static_cast<long>(end.at(entry.first) - entry.second);
  }
  long consumed = 0;
  std::size_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  int idle = 0;
  while (consumed < expected && idle < 20) {  // gives up after 10 s without a record
    const asiokafka::RecordBatches batches = co_await consumer.getmany({.timeout = std::chrono::milliseconds(500)});
    idle = batches.empty() ? idle + 1 : 0;
    for (const auto& batch : batches) {
      for (const asiokafka::ConsumerRecord& record : batch.second) {
        if (record.offset >= end.at(batch.first)) continue;  // written after we started
        ++consumed;
        bytes += record.value ? record.value->size() : 0;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_await consumer.stop();
  if (consumed != expected) {
    throw std::runtime_error("consumed " + std::to_string(consumed) + " of " + std::to_string(expected) + " records");
  }
  std::printf("consumed %ld records (%zu B of values) from 'quickstart' in %.2f s: %.0f records/s\n", consumed, bytes,
              seconds, static_cast<double>(consumed) / seconds);
}

// The end offset of every partition of 'quickstart' (created on first use).
asio::awaitable<std::map<asiokafka::TopicPartition, std::int64_t>> end_offsets(std::string bootstrap) {
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Consumer consumer(executor, {.bootstrap_servers = bootstrap});
  co_await consumer.start();
  std::vector<asiokafka::TopicPartition> partitions;
  const std::set<std::int32_t> ids = co_await consumer.partitions_for_topic("quickstart");
  for (std::int32_t p : ids) partitions.emplace_back("quickstart", p);
  auto out = co_await consumer.end_offsets(partitions);
  co_await consumer.stop();
  co_return out;
}

asio::awaitable<void> run(std::string bootstrap, long count) {
  // co_await throws asiokafka::error (a std::system_error naming the broker) on failure.
  const auto executor = co_await asio::this_coro::executor;
  const asiokafka::BrokerProbe probe = co_await asiokafka::probe_broker(executor, bootstrap);
  std::printf("asiokafka %s connected to %s\n", asiokafka::version_string, probe.address.c_str());
  std::printf("cluster id: %s, controller: %d\n", probe.cluster_id.value_or("(none)").c_str(), probe.controller_id);
  for (const auto& b : probe.brokers) {
    std::printf("broker %d at %s:%d%s%s\n", b.node_id, b.host.c_str(), b.port, b.rack ? " rack " : "",
                b.rack.value_or("").c_str());
  }
  std::printf("%zu APIs (ApiVersions v%d):\n", probe.api_versions.size(), probe.api_versions_version);
  for (const auto& v : probe.api_versions) {
    std::printf("  api %3d  versions %d..%d\n", v.api_key, v.min_version, v.max_version);
  }
  const auto before = co_await end_offsets(bootstrap);
  co_await produce(bootstrap, count);
  co_await consume(bootstrap, before);
}

int main(int argc, char** argv) {
  const std::string bootstrap = argc > 1 ? argv[1] : "127.0.0.1:9092";
  const long count = argc > 2 ? std::atol(argv[2]) : 200'000;
  asio::io_context io;
  int status = 0;
  asio::co_spawn(io, run(bootstrap, count), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "quickstart: %s\n", ex.what());
      status = 1;
    }
  });
  io.run();
  return status;
}
