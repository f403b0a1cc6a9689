// Small helpers shared by producer_bench and consumer_bench: option parsing (comma lists, the
// rig's bootstrap) and the figures of a report (medians over repetitions, per-message CPU,
// ratios to the peer). Moved here from producer_bench.cpp and producer_bench_report.cpp so that
// both benchmarks compute and print their figures the same way.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "producer_bench.hpp"

namespace asiokafka::bench {

/// "a,b,,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// The PLAINTEXT bootstrap of the rig.env named by ASIOKAFKA_RIG_ENV (docs/rig.md).
inline std::string rig_bootstrap() {
  const char* path = std::getenv("ASIOKAFKA_RIG_ENV");
  if (!path) throw std::runtime_error("no --bootstrap and ASIOKAFKA_RIG_ENV is not set (see docs/rig.md)");
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("BOOTSTRAP_PLAINTEXT=", 0) == 0) return line.substr(20);
  }
  throw std::runtime_error(std::string("no BOOTSTRAP_PLAINTEXT in ") + path);
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The median of one figure over the successful runs of a client.
inline double med(const std::vector<RunResult>& runs, const std::function<double(const RunResult&)>& f) {
  std::vector<double> v;
  for (const auto& r : runs) {
    if (r.ok) v.push_back(f(r));
  }
  return median(v);
}

inline double msgs_per_s(const RunResult& r) {
  return r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
}
inline double cpu_per_msg(const RunResult& r) {
  return r.records ? static_cast<double>(r.cpu_ns) / static_cast<double>(r.records) : 0;
}
inline double rss_mib(const RunResult& r) { return static_cast<double>(r.peak_rss_kib) / 1024.0; }

/// "0.52×", or "—" when either side is missing.
inline std::string ratio(double ours, double peer) {
  if (peer <= 0 || ours <= 0) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f×", ours / peer);
  return buf;
}

}  // namespace asiokafka::bench
