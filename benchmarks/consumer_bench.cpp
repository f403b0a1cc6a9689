// consumer_bench: asiokafka::Consumer beside librdkafka's C consumer (and, when given, franz-go
// and the Java client's ConsumerPerformance) against a running broker, with the same fetch
// settings and the same accounting. docs/benchmarks.md ("Consumer") has the command lines and
// results; ../shared/BENCHMARKING.md the method.
//
//   consumer_bench [--bootstrap host:port] [--mode throughput|latency|all] [--records N]
//                  [--reps N] [--partitions 1,4] [--clients ours,librdkafka,franz-go,java]
//                  [--franzgo BIN] [--java-classpath CP] [--topic-prefix NAME] [--value-size N]
//                  [--fetch-max-bytes N] [--partition-fetch-bytes N] [--fetch-wait-ms N]
//                  [--fetch-min-bytes N] [--buffer-bytes N] [--poll-records N] [--no-crc]
//                  [--rate N] [--latency-seconds S] [--latency-warmup-seconds S] [--latency-reps N]
//                  [--latency-clients ours,librdkafka,ours/rdk-producer,librdkafka/our-producer]
//
// Throughput: topics <prefix>-<P>p-<N>-<size>b are filled once with N records (librdkafka's
// producer; kept for later runs), read once by ours to warm the page cache, then read from
// offset 0 to the end by each client in its own process, --reps times, alternating the order.
// Latency: for each pair a fresh topic; a producer sends at --rate records/s with linger 0,
// each value stamped with its scheduled send time, and a consumer (fetch_min_bytes 1) in the
// same process measures the time to receipt. "ours" and "librdkafka" are each client's own
// producer and consumer; "ours/rdk-producer" is our consumer reading librdkafka's producer,
// "librdkafka/our-producer" the reverse (they separate the consumer's part from the
// producer's).
//
// Without --bootstrap, the PLAINTEXT bootstrap of the rig.env named by ASIOKAFKA_RIG_ENV.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench_common.hpp"
#include "consumer_bench.hpp"
#include "consumer_bench_peers.hpp"
#include "consumer_bench_report.hpp"
#include "payload.hpp"
#include "producer_bench_procs.hpp"

namespace asiokafka::bench {
namespace {

// A latency row: whose producer sends, whose consumer receives. "ours" and "librdkafka" are
// each client's own pair (the comparison); the crossed pairs share a producer with
// one of them, to tell the consumer's part from the producer's.
struct LatencyPair {
  PacedSender produce;
  StampedConsumer consume;
};
LatencyPair latency_pair(const std::string& client) {
  if (client == "ours") return {produce_paced_ours, consume_stamped_ours};
  if (client == "librdkafka") return {produce_paced_rdkafka, consume_stamped_rdkafka};
  if (client == "ours/rdk-producer") return {produce_paced_rdkafka, consume_stamped_ours};
  if (client == "librdkafka/our-producer") return {produce_paced_ours, consume_stamped_rdkafka};
  throw std::runtime_error("unknown latency client " + client);
}

struct Options {
  std::string bootstrap;
  std::string mode = "all";
  std::uint64_t records = 5'000'000;
  int reps = 3, latency_reps = 1;
  std::vector<int> partitions{1, 4};
  std::vector<std::string> clients;
  std::vector<std::string> latency_clients{"ours", "librdkafka", "ours/rdk-producer", "librdkafka/our-producer"};
  std::string franzgo, java_classpath, topic_prefix = "consumer-bench";
  double latency_seconds = 10, latency_warmup_seconds = 1;
  ConsumeSpec spec;  // the fetch settings and the rate
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--bootstrap") o.bootstrap = value();
    else if (a == "--mode") o.mode = value();
    else if (a == "--records") o.records = std::stoull(value());
    else if (a == "--reps") o.reps = std::stoi(value());
    else if (a == "--latency-reps") o.latency_reps = std::stoi(value());
    else if (a == "--partitions") {
      o.partitions.clear();
      for (const auto& p : split(value())) o.partitions.push_back(std::stoi(p));
    } else if (a == "--clients") o.clients = split(value());
    else if (a == "--franzgo") o.franzgo = value();
    else if (a == "--java-classpath") o.java_classpath = value();
    else if (a == "--topic-prefix") o.topic_prefix = value();
    else if (a == "--value-size") o.spec.value_size = std::stoull(value());
    else if (a == "--fetch-max-bytes") o.spec.fetch_max_bytes = std::stoull(value());
    else if (a == "--partition-fetch-bytes") o.spec.partition_fetch_bytes = std::stoull(value());
    else if (a == "--fetch-wait-ms") o.spec.fetch_wait_ms = std::stoi(value());
    else if (a == "--fetch-min-bytes") o.spec.fetch_min_bytes = std::stoull(value());
    else if (a == "--buffer-bytes") o.spec.buffer_bytes = std::stoull(value());
    else if (a == "--poll-records") o.spec.poll_records = std::stoull(value());
    else if (a == "--no-crc") o.spec.check_crcs = false;
    else if (a == "--rate") o.spec.rate = std::stod(value());
    else if (a == "--latency-seconds") o.latency_seconds = std::stod(value());
    else if (a == "--latency-warmup-seconds") o.latency_warmup_seconds = std::stod(value());
    else if (a == "--help" || a == "-h") {
      std::printf("see the comment at the top of benchmarks/consumer_bench.cpp and docs/benchmarks.md\n");
      std::exit(0);
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  if (o.bootstrap.empty()) o.bootstrap = rig_bootstrap();
  o.spec.bootstrap = o.bootstrap;
  if (o.clients.empty()) {
    o.clients = {"ours", "librdkafka"};
    if (!o.franzgo.empty()) o.clients.push_back("franz-go");
    if (!o.java_classpath.empty()) o.clients.push_back("java");
  }
  if (o.mode != "all" && o.mode != "throughput" && o.mode != "latency") throw std::runtime_error("bad --mode");
  for (const auto& c : o.latency_clients) latency_pair(c);  // refuses unknown names now
  if (o.spec.value_size < kStampBytes) throw std::runtime_error("--value-size must be at least 16");
  return o;
}

std::string unique_name(const std::string& stem) {
  static std::mt19937_64 rng{std::random_device{}()};
  return stem + "-" + std::to_string(getpid()) + "-" + std::to_string(rng() % 1'000'000'000u);
}

// The topic of `partitions` partitions holding exactly o.records records, filled if absent.
std::string prepared_topic(const Options& o, int partitions, const std::vector<std::string>& payloads) {
  const std::string topic = o.topic_prefix + "-" + std::to_string(partitions) + "p-" + std::to_string(o.records) +
                            "-" + std::to_string(o.spec.value_size) + "b";
  const std::int64_t held = topic_records(o.bootstrap, topic);
  if (held == static_cast<std::int64_t>(o.records)) {
    std::printf("topic %s: %lld records already, not filled again\n", topic.c_str(), static_cast<long long>(held));
    return topic;
  }
  if (held >= 0) {
    throw std::runtime_error("topic " + topic + " holds " + std::to_string(held) + " records, not " +
                             std::to_string(o.records) + ": delete it or use another --topic-prefix");
  }
  create_topic(o.bootstrap, topic, partitions);
  const std::uint64_t t0 = monotonic_ns();
  // In a child, so that the parent stays without librdkafka's threads when it forks.
  const RunResult r = run_in_child(
      [&] {
        RunResult out;
        try {
          prefill(o.bootstrap, topic, partitions, o.records, payloads);
          out.ok = true;
        } catch (const std::exception& e) {
          set_error(out, e.what());
        }
        return out;
      },
      600 + static_cast<int>(o.records / 10'000));
  if (!r.ok) throw std::runtime_error("filling " + topic + ": " + r.error);
  std::printf("topic %s: filled with %llu records in %.1f s\n", topic.c_str(),
              static_cast<unsigned long long>(o.records), static_cast<double>(monotonic_ns() - t0) / 1e9);
  return topic;
}

RunResult run_throughput(const std::string& client, const ConsumeSpec& spec, const Options& o) {
  const int timeout_s = 180 + static_cast<int>(spec.records / 10'000);
  if (client == "ours") return run_in_child([&] { return consume_ours(spec); }, timeout_s);
  if (client == "librdkafka") return run_in_child([&] { return consume_rdkafka(spec); }, timeout_s);
  if (client == "franz-go") return consume_franzgo(spec, o.franzgo);
  if (client == "java") return consume_java(spec, o.java_classpath, [] { return unique_name("consumer_bench"); });
  throw std::runtime_error("unknown client " + client);
}

int run(const Options& o) {
  PayloadGenerator gen;
  const std::vector<std::string> payloads = gen.many(1024, o.spec.value_size);
  ConsumerReport report(o.spec.value_size);
  std::printf("consumer_bench: bootstrap %s, %zu-byte values, fetch_max_bytes %zu, max_partition_fetch_bytes %zu, "
              "fetch_max_wait %d ms, fetch_min_bytes %zu, buffer %zu B, %zu records a poll, CRC check %s, "
              "%d repetition(s); each client in its own process\n",
              o.bootstrap.c_str(), o.spec.value_size, o.spec.fetch_max_bytes, o.spec.partition_fetch_bytes,
              o.spec.fetch_wait_ms, o.spec.fetch_min_bytes, o.spec.buffer_bytes, o.spec.poll_records,
              o.spec.check_crcs ? "on" : "off", o.reps);
  if (o.mode != "latency") {
    for (const int partitions : o.partitions) {
      ConsumeSpec spec = o.spec;
      spec.topic = prepared_topic(o, partitions, payloads);
      spec.partitions = partitions;
      spec.records = o.records;
      // One full read first, so every measured read finds the log in the page cache.
      const RunResult warm = run_throughput("ours", spec, o);
      std::printf("  [warm-up p=%d] page cache warmed by one read: %s\n", partitions, warm.ok ? "ok" : warm.error);
      for (int rep = 0; rep < o.reps; ++rep) {
        std::vector<std::string> order = o.clients;
        if (rep % 2 == 1) std::reverse(order.begin(), order.end());
        for (const auto& client : order) report.add(Mode::throughput, partitions, client, run_throughput(client, spec, o));
      }
    }
  }
  if (o.mode != "throughput") {
    for (const int partitions : o.partitions) {
      for (int rep = 0; rep < o.latency_reps; ++rep) {
        std::vector<std::string> order = o.latency_clients;
        if (rep % 2 == 1) std::reverse(order.begin(), order.end());
        for (const auto& client : order) {
          ConsumeSpec spec = o.spec;
          spec.topic = unique_name("consumer-bench-latency-p" + std::to_string(partitions));
          spec.partitions = partitions;
          spec.fetch_min_bytes = 1;
          spec.records = static_cast<std::uint64_t>(o.latency_seconds * spec.rate);
          spec.warmup = static_cast<std::uint64_t>(o.latency_warmup_seconds * spec.rate);
          create_topic(o.bootstrap, spec.topic, partitions);
          const LatencyPair pair = latency_pair(client);
          const int timeout_s = 120 + static_cast<int>(o.latency_seconds + o.latency_warmup_seconds);
          report.add(Mode::latency, partitions, client,
                     run_in_child([&] { return run_latency(spec, pair.produce, pair.consume); }, timeout_s));
        }
      }
    }
  }
  report.print(o.spec.rate);
  return report.all_ok() ? 0 : 1;
}

}  // namespace
}  // namespace asiokafka::bench

int main(int argc, char** argv) {
  try {
    return asiokafka::bench::run(asiokafka::bench::parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer_bench: %s\n", e.what());
    return 2;
  }
}
