// rebalance_bench: the report (see rebalance_bench_report.hpp).
#include "rebalance_bench_report.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "bench_common.hpp"

namespace asiokafka::bench {
namespace {

using Figure = std::function<double(const RunFigures&)>;

std::vector<double> values(const std::vector<RunFigures>& runs, const Figure& f) {
  std::vector<double> v;
  for (const auto& r : runs) {
    if (r.ok) v.push_back(f(r));
  }
  return v;
}

// "1.23 (1.10–1.40)": the median and the range of the successful runs, in seconds.
std::string spread(const std::vector<RunFigures>& runs, const Figure& f) {
  const std::vector<double> v = values(runs, f);
  if (v.empty()) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f (%.2f–%.2f)", median(v), *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()));
  return buf;
}

}  // namespace

void RebalanceReport::declare(const std::string& kase, const std::string& client) {
  if (std::find(cases_.begin(), cases_.end(), kase) == cases_.end()) cases_.push_back(kase);
  if (std::find(clients_.begin(), clients_.end(), client) == clients_.end()) clients_.push_back(client);
}

void RebalanceReport::skip(const std::string& kase, const std::string& client, const std::string& why) {
  declare(kase, client);
  skipped_[{kase, client}] = why;
  std::printf("  [%s] %s: skipped: %s\n", kase.c_str(), client.c_str(), why.c_str());
  std::fflush(stdout);
}

bool RebalanceReport::skipped(const std::string& kase, const std::string& client) const {
  return skipped_.count({kase, client}) != 0;
}

void RebalanceReport::add(const std::string& kase, const std::string& client, int rep, const RunFigures& f) {
  declare(kase, client);
  runs_[{kase, client}].push_back(f);
  if (!f.ok) {
    all_ok_ = false;
    std::printf("  [%s rep %d] %-10s FAILED: %s\n", kase.c_str(), rep + 1, client.c_str(), f.error.c_str());
  } else {
    std::printf("  [%s rep %d] %-10s start %.2f s; join: assigned %.2f s, consumed %.2f s; kill: assigned %.2f s, "
                "consumed %.2f s (%+.2f s beyond the session timeout)\n",
                kase.c_str(), rep + 1, client.c_str(), f.start, f.join.assigned, f.join.consumed, f.kill.assigned,
                f.kill.consumed, f.kill.consumed - session_s_);
  }
  std::fflush(stdout);
}

void RebalanceReport::print() const {
  std::printf("\nRebalance time, seconds: median (min–max) of the successful runs; \"assigned\": the last partition "
              "reached its final owner, \"consumed\": the last partition's first record reached its owner's "
              "application; kill figures include the session timeout (%.1f s)\n\n",
              session_s_);
  std::printf("| case | event | client | runs ok | all assigned | all consumed | consumed − session timeout | "
              "consumed ratio to the peer (librdkafka; java where librdkafka did not run) |\n"
              "|---|---|---|---:|---:|---:|---:|---:|\n");
  const Figure join_assigned = [](const RunFigures& r) { return r.join.assigned; };
  const Figure join_consumed = [](const RunFigures& r) { return r.join.consumed; };
  const Figure kill_assigned = [](const RunFigures& r) { return r.kill.assigned; };
  const Figure kill_consumed = [](const RunFigures& r) { return r.kill.consumed; };
  const double session = session_s_;
  const Figure kill_beyond = [session](const RunFigures& r) { return r.kill.consumed - session; };
  for (const auto& kase : cases_) {
    for (const bool join : {true, false}) {
      const Figure& consumed = join ? join_consumed : kill_consumed;
      // The ratio's reference: librdkafka where it ran this case, else the Java client (KIP-848
      // with Debian's librdkafka 2.0.2).
      std::string peer_client = "librdkafka";
      auto peer = runs_.find({kase, peer_client});
      if (peer == runs_.end() || values(peer->second, consumed).empty()) {
        peer_client = "java";
        peer = runs_.find({kase, peer_client});
      }
      const double peer_median = peer == runs_.end() ? 0 : median(values(peer->second, consumed));
      for (const auto& client : clients_) {
        const Key key{kase, client};
        const char* event = join ? "member joins" : "member killed";
        if (const auto s = skipped_.find(key); s != skipped_.end()) {
          std::printf("| %s | %s | %s | — | skipped: %s | | | |\n", kase.c_str(), event, client.c_str(),
                      s->second.c_str());
          continue;
        }
        const auto r = runs_.find(key);
        if (r == runs_.end()) continue;
        const auto ok = std::count_if(r->second.begin(), r->second.end(), [](const RunFigures& f) { return f.ok; });
        const std::string rat = client == peer_client ? "" : ratio(median(values(r->second, consumed)), peer_median);
        std::printf("| %s | %s | %s | %ld/%zu | %s | %s | %s | %s |\n", kase.c_str(), event, client.c_str(),
                    static_cast<long>(ok), r->second.size(),
                    spread(r->second, join ? join_assigned : kill_assigned).c_str(), spread(r->second, consumed).c_str(),
                    join ? "" : spread(r->second, kill_beyond).c_str(), rat.c_str());
      }
    }
  }
}

}  // namespace asiokafka::bench
