// consumer_bench: franz-go (benchmarks/franzgo's consume mode) and the Java client's
// ConsumerPerformance, run and measured as programs of their own with the same fetch settings.
#include "consumer_bench_peers.hpp"

#include <regex>
#include <sstream>
#include <vector>

#include "producer_bench_procs.hpp"

namespace asiokafka::bench {
namespace {

RunResult failed(const ExecResult& e, const std::string& what) {
  RunResult r;
  const std::string tail = e.output.size() > 300 ? e.output.substr(e.output.size() - 300) : e.output;
  set_error(r, what + (e.timed_out ? " (timed out)" : " (exit " + std::to_string(e.exit_code) + ")") + ": " + tail);
  return r;
}

int timeout_for(const ConsumeSpec& spec) { return 120 + static_cast<int>(spec.records / 20'000); }

void check_count(RunResult& r, const ConsumeSpec& spec, std::uint64_t bytes, const char* who) {
  if (r.records != spec.records || (bytes != 0 && bytes != r.records * spec.value_size)) {
    set_error(r, std::string(who) + ": read " + std::to_string(r.records) + " records / " + std::to_string(bytes) +
                     " B, expected " + std::to_string(spec.records));
  } else {
    r.ok = true;
  }
}

}  // namespace

RunResult consume_franzgo(const ConsumeSpec& spec, const std::string& binary) {
  std::vector<std::string> argv{binary,
                                "consume",
                                "--bootstrap", spec.bootstrap,
                                "--topic", spec.topic,
                                "--partitions", std::to_string(spec.partitions),
                                "--records", std::to_string(spec.records),
                                "--fetch-max-bytes", std::to_string(spec.fetch_max_bytes),
                                "--partition-fetch-bytes", std::to_string(spec.partition_fetch_bytes),
                                "--fetch-wait-ms", std::to_string(spec.fetch_wait_ms),
                                "--fetch-min-bytes", std::to_string(spec.fetch_min_bytes),
                                "--poll-records", std::to_string(spec.poll_records)};
  if (!spec.check_crcs) argv.push_back("--no-crc");
  const ExecResult e = run_program(argv, timeout_for(spec));
  static const std::regex line(R"(RESULT records=(\d+) bytes=(\d+) seconds=([0-9.eE+-]+) cpu_ns=(\d+))");
  std::smatch m;
  if (e.exit_code != 0 || !std::regex_search(e.output, m, line)) return failed(e, "franz-go");
  RunResult r;
  r.records = std::stoull(m[1]);
  r.seconds = std::stod(m[3]);
  r.cpu_ns = std::stoull(m[4]);
  r.peak_rss_kib = e.peak_rss_kib;
  check_count(r, spec, std::stoull(m[2]), "franz-go");
  return r;
}

RunResult consume_java(const ConsumeSpec& spec, const std::string& classpath,
                       const std::function<std::string()>& fresh_group) {
  // kafka-consumer-perf-test.sh's JVM settings (heap 512 MiB, G1), as for ProducerPerformance.
  auto argv_for = [&](std::uint64_t records) {
    std::vector<std::string> argv{"java", "-Xmx512M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                                  "-XX:InitiatingHeapOccupancyPercent=35", "-Djava.awt.headless=true",
                                  "-cp", classpath, "org.apache.kafka.tools.ConsumerPerformance",
                                  "--bootstrap-server", spec.bootstrap, "--topic", spec.topic,
                                  "--num-records", std::to_string(records), "--group", fresh_group(),
                                  "--fetch-size", std::to_string(spec.partition_fetch_bytes),
                                  "--timeout", "30000", "--reporting-interval", "600000"};
    const std::vector<std::string> properties{
         "client.id=consumer_bench", "auto.offset.reset=earliest", "enable.auto.commit=false",
          "fetch.max.bytes=" + std::to_string(spec.fetch_max_bytes),
          "fetch.max.wait.ms=" + std::to_string(spec.fetch_wait_ms),
          "fetch.min.bytes=" + std::to_string(spec.fetch_min_bytes),
          "max.poll.records=" + std::to_string(spec.poll_records),
          std::string("check.crcs=") + (spec.check_crcs ? "true" : "false"),
          // The OS's socket buffer, as the other clients (the tool's default is 2 MiB).
          "receive.buffer.bytes=-1"};
    for (const std::string& p : properties) {
      argv.push_back("--command-property");
      argv.push_back(p);
    }
    return argv;
  };
  const ExecResult base = run_program(argv_for(1), timeout_for(spec));
  if (base.exit_code != 0) return failed(base, "java (one-record run)");
  const ExecResult full = run_program(argv_for(spec.records), timeout_for(spec));
  if (full.exit_code != 0) return failed(full, "java");
  // The data line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,
  // nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec.
  static const std::regex line(
      R"(\n[0-9-]+ [0-9:]+, [0-9-]+ [0-9:]+, ([0-9.]+), ([0-9.]+), (\d+), ([0-9.]+), (-?\d+), (\d+), ([0-9.]+), ([0-9.]+))");
  std::smatch m;
  if (!std::regex_search(full.output, m, line)) return failed(full, "java: no result line");
  RunResult r;
  r.records = std::stoull(m[3]);
  r.seconds = static_cast<double>(std::stoull(m[6])) / 1e3;  // fetch.time.ms
  r.cpu_ns = full.cpu_ns > base.cpu_ns ? full.cpu_ns - base.cpu_ns : 0;
  r.peak_rss_kib = full.peak_rss_kib;
  check_count(r, spec, 0, "java");
  return r;
}

}  // namespace asiokafka::bench
