// producer_bench: asiokafka::Producer beside librdkafka's C producer (and, when given, franz-go
// and the Java client's ProducerPerformance) against a running broker, with the same settings,
// the same payloads and the same accounting. docs/benchmarks.md ("Producer") has the command
// lines and results; ../shared/BENCHMARKING.md the method.
//
//   producer_bench [--bootstrap host:port] [--mode throughput|latency|all] [--records N]
//                  [--warmup N] [--reps N] [--partitions 1,4] [--compression none,lz4]
//                  [--clients ours,librdkafka,franz-go,java] [--franzgo BIN] [--java-classpath CP]
//                  [--latency-records N] [--latency-warmup N] [--rate N] [--linger-ms N]
//                  [--batch-bytes N] [--buffer-memory N] [--value-size N] [--ours-no-ack-wait]
//
// --ours-no-ack-wait: ours sends without a per-record async_wait and ends with flush() (a
// diagnostic: the cost of send() and batching alone; failures are not counted in this mode).
//
// Without --bootstrap, the PLAINTEXT bootstrap of the rig.env named by ASIOKAFKA_RIG_ENV.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench_common.hpp"
#include "payload.hpp"
#include "producer_bench.hpp"
#include "producer_bench_peers.hpp"
#include "producer_bench_procs.hpp"
#include "producer_bench_report.hpp"

namespace asiokafka::bench {
namespace {

struct Options {
  std::string bootstrap;
  std::string mode = "all";
  std::uint64_t records = 2'000'000, warmup = 200'000;
  std::uint64_t latency_records = 100'000, latency_warmup = 10'000;
  double rate = 10'000;
  int reps = 3;
  std::vector<int> partitions{1, 4};
  std::vector<std::string> compression{"none", "lz4"};
  std::vector<std::string> latency_compression{"none"};
  std::vector<std::string> clients;
  std::string franzgo, java_classpath;
  bool per_record_ack = true;
  int linger_ms = 5;
  std::size_t batch_bytes = 1'048'576, buffer_memory = 32 * 1024 * 1024, value_size = 100;
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
    else if (a == "--warmup") o.warmup = std::stoull(value());
    else if (a == "--latency-records") o.latency_records = std::stoull(value());
    else if (a == "--latency-warmup") o.latency_warmup = std::stoull(value());
    else if (a == "--rate") o.rate = std::stod(value());
    else if (a == "--reps") o.reps = std::stoi(value());
    else if (a == "--partitions") {
      o.partitions.clear();
      for (const auto& p : split(value())) o.partitions.push_back(std::stoi(p));
    } else if (a == "--compression") o.compression = split(value());
    else if (a == "--latency-compression") o.latency_compression = split(value());
    else if (a == "--clients") o.clients = split(value());
    else if (a == "--franzgo") o.franzgo = value();
    else if (a == "--ours-no-ack-wait") o.per_record_ack = false;
    else if (a == "--java-classpath") o.java_classpath = value();
    else if (a == "--linger-ms") o.linger_ms = std::stoi(value());
    else if (a == "--batch-bytes") o.batch_bytes = std::stoull(value());
    else if (a == "--buffer-memory") o.buffer_memory = std::stoull(value());
    else if (a == "--value-size") o.value_size = std::stoull(value());
    else if (a == "--help" || a == "-h") {
      std::printf("see the comment at the top of benchmarks/producer_bench.cpp and docs/benchmarks.md\n");
      std::exit(0);
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  if (o.bootstrap.empty()) o.bootstrap = rig_bootstrap();
  if (o.clients.empty()) {
    o.clients = {"ours", "librdkafka"};
    if (!o.franzgo.empty()) o.clients.push_back("franz-go");
    if (!o.java_classpath.empty()) o.clients.push_back("java");
  }
  if (o.mode != "all" && o.mode != "throughput" && o.mode != "latency") throw std::runtime_error("bad --mode");
  return o;
}

std::string unique_topic(const std::string& stem) {
  static std::mt19937_64 rng{std::random_device{}()};
  return stem + "-" + std::to_string(getpid()) + "-" + std::to_string(rng() % 1'000'000'000u);
}

// One client run on a fresh topic.
RunResult run_client(const std::string& client, RunSpec spec, const Options& o, const std::string& payload_file) {
  spec.topic = unique_topic("bench-" + client + "-p" + std::to_string(spec.partitions));
  create_topic(spec.bootstrap, spec.topic, spec.partitions);
  const int timeout_s = 180 + static_cast<int>((spec.records + spec.warmup) / 10'000);
  if (client == "ours") return run_in_child([&] { return run_ours(spec); }, timeout_s);
  if (client == "librdkafka") return run_in_child([&] { return run_rdkafka(spec); }, timeout_s);
  if (client == "franz-go") return run_franzgo(spec, o.franzgo, payload_file);
  if (client == "java") {
    return run_java(spec, o.java_classpath, payload_file, [&] {
      const std::string t = unique_topic("bench-java-warm-p" + std::to_string(spec.partitions));
      create_topic(spec.bootstrap, t, spec.partitions);
      return t;
    });
  }
  throw std::runtime_error("unknown client " + client);
}

int run(const Options& o) {
  PayloadGenerator gen;
  const std::vector<std::string> payloads = gen.many(1024, o.value_size);
  const std::string payload_file = "/tmp/producer_bench_payloads_" + std::to_string(getpid()) + ".txt";
  {
    std::ofstream out(payload_file);
    for (const auto& p : payloads) out << p << '\n';  // the generator writes no newline
  }
  Report report(o.value_size, o.buffer_memory);
  std::printf("producer_bench: bootstrap %s, %zu-byte values, acks=all, idempotence on, batch %zu B, buffer %zu B, "
              "%d repetition(s); each client in its own process on a fresh topic\n",
              o.bootstrap.c_str(), o.value_size, o.batch_bytes, o.buffer_memory, o.reps);
  auto run_rows = [&](Mode mode, const std::vector<std::string>& codecs) {
    for (const int partitions : o.partitions) {
      for (const auto& codec : codecs) {
        RunSpec spec;
        spec.mode = mode;
        spec.bootstrap = o.bootstrap;
        spec.partitions = partitions;
        spec.compression = codec;
        spec.records = mode == Mode::throughput ? o.records : o.latency_records;
        spec.warmup = mode == Mode::throughput ? o.warmup : o.latency_warmup;
        spec.linger_ms = mode == Mode::throughput ? o.linger_ms : 0;
        spec.batch_bytes = o.batch_bytes;
        spec.request_bytes = std::max<std::size_t>(o.batch_bytes, 1'048'576);
        spec.buffer_memory = o.buffer_memory;
        spec.rate = o.rate;
        spec.payloads = &payloads;
        spec.per_record_ack = o.per_record_ack;
        for (int rep = 0; rep < o.reps; ++rep) {
          // Alternate the order of the clients between repetitions (drift, page cache).
          std::vector<std::string> order = o.clients;
          if (rep % 2 == 1) std::reverse(order.begin(), order.end());
          for (const auto& client : order) {
            if (mode == Mode::latency && client != "ours" && client != "librdkafka") continue;
            const RunResult r = run_client(client, spec, o, payload_file);
            report.add(mode, partitions, codec, client, r);
          }
        }
      }
    }
  };
  if (o.mode != "latency") run_rows(Mode::throughput, o.compression);
  if (o.mode != "throughput") run_rows(Mode::latency, o.latency_compression);
  std::remove(payload_file.c_str());
  report.print(o.rate);
  return report.all_ok() ? 0 : 1;
}

}  // namespace
}  // namespace asiokafka::bench

int main(int argc, char** argv) {
  try {
    return asiokafka::bench::run(asiokafka::bench::parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "producer_bench: %s\n", e.what());
    return 2;
  }
}
