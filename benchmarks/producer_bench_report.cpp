// producer_bench: the report (see producer_bench_report.hpp).
#include "producer_bench_report.hpp"

#include "bench_common.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

namespace asiokafka::bench {
namespace {

const char* codec_label(const std::string& c) { return c.c_str(); }

}  // namespace

void Report::add(Mode mode, int partitions, const std::string& codec, const std::string& client, const RunResult& r) {
  const Key key{static_cast<int>(mode), partitions, codec};
  if (!rows_.count(key)) order_.push_back(key);
  Row& row = rows_[key];
  if (!row.runs.count(client)) row.clients.push_back(client);
  row.runs[client].push_back(r);
  if (!r.ok) {
    all_ok_ = false;
    std::printf("  [%s p=%d %s] %-10s FAILED: %s\n", mode == Mode::throughput ? "throughput" : "latency", partitions,
                codec.c_str(), client.c_str(), r.error);
  } else if (mode == Mode::throughput) {
    std::string io;  // ours: the io_context thread alone, beside the sum over all threads
    if (r.io_thread_cpu_ns && r.records) {
      io = " (io thread " + std::to_string(r.io_thread_cpu_ns / r.records) + ")";
    }
    std::printf("  [throughput p=%d %s] %-10s %10.0f msgs/s %7.1f MB/s %7.0f ns/msg CPU%s %6.1f MiB RSS "
                "(%llu records in %.2f s)\n",
                partitions, codec.c_str(), client.c_str(), msgs_per_s(r),
                msgs_per_s(r) * static_cast<double>(value_size_) / 1e6, cpu_per_msg(r), io.c_str(), rss_mib(r),
                static_cast<unsigned long long>(r.records), r.seconds);
  } else {
    std::printf("  [latency p=%d %s] %-10s p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us, %.0f ns/msg CPU, "
                "send lag max %.0f us (%llu records)\n",
                partitions, codec.c_str(), client.c_str(), r.p50_us, r.p99_us, r.p999_us, r.max_us, cpu_per_msg(r),
                r.send_lag_max_us, static_cast<unsigned long long>(r.records));
  }
  std::fflush(stdout);
}

void Report::print(double rate) const {
  print_throughput();
  print_latency(rate);
}

void Report::print_throughput() const {
  bool header = false;
  const double rss_target = static_cast<double>(buffer_memory_) / (1024.0 * 1024.0) + 16;
  for (const Key& key : order_) {
    const Row& row = rows_.at(key);
    if (std::get<0>(key) != static_cast<int>(Mode::throughput)) continue;
    if (!header) {
      std::printf("\nThroughput (medians of successful runs; ratios to librdkafka; targets for ours: CPU/msg <= 0.50x, "
                  "msgs/s >= 1.00x, RSS <= %.0f MiB)\n\n",
                  rss_target);
      std::printf("| partitions | codec | client | runs | msgs/s | MB/s | CPU ns/msg | peak RSS MiB | msgs/s ratio | "
                  "CPU ratio | RSS ratio | targets |\n|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
      header = true;
    }
    const auto peer = row.runs.find("librdkafka");
    const double peer_rate = peer == row.runs.end() ? 0 : med(peer->second, msgs_per_s);
    const double peer_cpu = peer == row.runs.end() ? 0 : med(peer->second, cpu_per_msg);
    const double peer_rss = peer == row.runs.end() ? 0 : med(peer->second, rss_mib);
    for (const auto& client : row.clients) {
      const auto& runs = row.runs.at(client);
      const auto ok = std::count_if(runs.begin(), runs.end(), [](const RunResult& r) { return r.ok; });
      const double rate = med(runs, msgs_per_s), cpu = med(runs, cpu_per_msg), rss = med(runs, rss_mib);
      std::string targets;
      if (client == "ours" && ok > 0 && peer_rate > 0) {
        targets += cpu <= 0.5 * peer_cpu ? "CPU met" : "CPU missed";
        targets += rate >= peer_rate ? ", rate met" : ", rate missed";
        targets += rss <= rss_target ? ", RSS met" : ", RSS missed";
      }
      std::printf("| %d | %s | %s | %ld/%zu | %.0f | %.1f | %.0f | %.1f | %s | %s | %s | %s |\n", std::get<1>(key),
                  codec_label(std::get<2>(key)), client.c_str(), static_cast<long>(ok), runs.size(), rate,
                  rate * static_cast<double>(value_size_) / 1e6, cpu, rss, ratio(rate, peer_rate).c_str(),
                  ratio(cpu, peer_cpu).c_str(), ratio(rss, peer_rss).c_str(), targets.c_str());
    }
  }
}

void Report::print_latency(double rate) const {
  bool header = false;
  for (const Key& key : order_) {
    const Row& row = rows_.at(key);
    if (std::get<0>(key) != static_cast<int>(Mode::latency)) continue;
    if (!header) {
      std::printf("\nLatency: open loop at %.0f msgs/s, linger 0, scheduled send to acknowledgement, µs (medians of "
                  "successful runs; target for ours: p99 <= librdkafka's)\n\n",
                  rate);
      std::printf("| partitions | codec | client | runs | p50 | p99 | p99.9 | max | CPU ns/msg | p99 ratio | target |\n"
                  "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
      header = true;
    }
    const auto peer = row.runs.find("librdkafka");
    const auto p99 = [](const RunResult& r) { return r.p99_us; };
    const double peer_p99 = peer == row.runs.end() ? 0 : med(peer->second, p99);
    for (const auto& client : row.clients) {
      const auto& runs = row.runs.at(client);
      const auto ok = std::count_if(runs.begin(), runs.end(), [](const RunResult& r) { return r.ok; });
      const double mine = med(runs, p99);
      std::string target;
      if (client == "ours" && ok > 0 && peer_p99 > 0) target = mine <= peer_p99 ? "met" : "missed";
      std::printf("| %d | %s | %s | %ld/%zu | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", std::get<1>(key),
                  codec_label(std::get<2>(key)), client.c_str(), static_cast<long>(ok), runs.size(),
                  med(runs, [](const RunResult& r) { return r.p50_us; }), mine,
                  med(runs, [](const RunResult& r) { return r.p999_us; }),
                  med(runs, [](const RunResult& r) { return r.max_us; }), med(runs, cpu_per_msg),
                  ratio(mine, peer_p99).c_str(), target.c_str());
    }
  }
}

}  // namespace asiokafka::bench
