// producer_bench: the peers that run as programs of their own, with the same settings and the
// same payloads (a file the harness writes): franz-go (benchmarks/franzgo, which measures its
// own window and prints a RESULT line) and the Java client's ProducerPerformance tool.
#include "producer_bench_peers.hpp"

#include <cstdio>
#include <regex>
#include <sstream>

#include "producer_bench_procs.hpp"

namespace asiokafka::bench {
namespace {

RunResult failed(const ExecResult& e, const std::string& what) {
  RunResult r;
  std::string tail = e.output.size() > 300 ? e.output.substr(e.output.size() - 300) : e.output;
  set_error(r, what + (e.timed_out ? " (timed out)" : " (exit " + std::to_string(e.exit_code) + ")") + ": " + tail);
  return r;
}

int timeout_for(const RunSpec& spec) {
  return 120 + static_cast<int>((spec.records + spec.warmup) / 20'000);
}

}  // namespace

RunResult run_franzgo(const RunSpec& spec, const std::string& binary, const std::string& payload_file) {
  const std::vector<std::string> argv{binary,
                                      "--bootstrap", spec.bootstrap,
                                      "--topic", spec.topic,
                                      "--records", std::to_string(spec.records),
                                      "--warmup", std::to_string(spec.warmup),
                                      "--compression", spec.compression,
                                      "--linger-ms", std::to_string(spec.linger_ms),
                                      "--batch-bytes", std::to_string(spec.batch_bytes),
                                      "--request-bytes", std::to_string(spec.request_bytes),
                                      "--buffer-bytes", std::to_string(spec.buffer_memory),
                                      "--payloads", payload_file};
  const ExecResult e = run_program(argv, timeout_for(spec));
  static const std::regex line(
      R"(RESULT records=(\d+) failed=(\d+) seconds=([0-9.eE+-]+) cpu_ns=(\d+))");
  std::smatch m;
  if (e.exit_code != 0 || !std::regex_search(e.output, m, line)) return failed(e, "franz-go");
  RunResult r;
  r.records = std::stoull(m[1]);
  r.failed = std::stoull(m[2]);
  r.seconds = std::stod(m[3]);
  r.cpu_ns = std::stoull(m[4]);
  r.peak_rss_kib = e.peak_rss_kib;
  r.ok = r.failed == 0;
  if (!r.ok) set_error(r, "franz-go: records failed");
  return r;
}

RunResult run_java(const RunSpec& spec, const std::string& classpath, const std::string& payload_file,
                   const std::function<std::string()>& fresh_topic) {
  // kafka-producer-perf-test.sh's JVM settings (heap 512 MiB, G1).
  auto argv_for = [&](const std::string& topic, std::uint64_t records, std::uint64_t warmup) {
    std::vector<std::string> argv{"java", "-Xmx512M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                                  "-XX:InitiatingHeapOccupancyPercent=35", "-Djava.awt.headless=true",
                                  "-cp", classpath, "org.apache.kafka.tools.ProducerPerformance",
                                  "--bootstrap-server", spec.bootstrap, "--topic", topic,
                                  "--num-records", std::to_string(records), "--throughput", "-1",
                                  "--payload-file", payload_file, "--reporting-interval", "60000",
                                  "--command-property", "acks=all", "enable.idempotence=true",
                                  "max.in.flight.requests.per.connection=5",
                                  "linger.ms=" + std::to_string(spec.linger_ms),
                                  "batch.size=" + std::to_string(spec.batch_bytes),
                                  "max.request.size=" + std::to_string(spec.request_bytes),
                                  "buffer.memory=" + std::to_string(spec.buffer_memory),
                                  "compression.type=" + spec.compression, "client.id=producer_bench"};
    if (warmup > 0) {
      argv.push_back("--warmup-records");
      argv.push_back(std::to_string(warmup));
    }
    return argv;
  };
  // The JVM's own start, class loading and JIT are not the client's per-record cost: a first
  // run sends only the warm-up records, and its CPU is subtracted from the full run's.
  const ExecResult base = run_program(argv_for(fresh_topic(), spec.warmup, 0), timeout_for(spec));
  if (base.exit_code != 0) return failed(base, "java (warm-up-only run)");
  const ExecResult full = run_program(argv_for(spec.topic, spec.warmup + spec.records, spec.warmup), timeout_for(spec));
  if (full.exit_code != 0) return failed(full, "java");
  // The last "N records sent, X records/sec" line is the steady-state summary (after the
  // warm-up records).
  static const std::regex line(R"((\d+) (?:steady state )?records sent, ([0-9.]+) records/sec)");
  double rate = 0;
  std::uint64_t sent = 0;
  for (auto it = std::sregex_iterator(full.output.begin(), full.output.end(), line); it != std::sregex_iterator();
       ++it) {
    sent = std::stoull((*it)[1]);
    rate = std::stod((*it)[2]);
  }
  if (rate <= 0) return failed(full, "java: no summary line");
  RunResult r;
  r.records = sent;
  r.seconds = static_cast<double>(sent) / rate;
  r.cpu_ns = full.cpu_ns > base.cpu_ns ? full.cpu_ns - base.cpu_ns : 0;
  // cpu_ns covers exactly spec.records records (the difference of the two runs); scale it to
  // the reported count so cpu_ns / records stays per record.
  if (sent != spec.records && spec.records > 0) {
    r.cpu_ns = static_cast<std::uint64_t>(static_cast<double>(r.cpu_ns) * static_cast<double>(sent) /
                                          static_cast<double>(spec.records));
  }
  r.peak_rss_kib = full.peak_rss_kib;
  r.ok = true;
  return r;
}

}  // namespace asiokafka::bench
