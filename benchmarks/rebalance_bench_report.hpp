// rebalance_bench: the figures of one run and the report: a line per run as it ends, then a
// table per case and event with ours beside librdkafka and the Java client (medians and ranges
// over the runs).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "rebalance_bench_group.hpp"

namespace asiokafka::bench {

/// One run of one client: two members start, a third joins, the first is killed.
struct RunFigures {
  bool ok = false;
  std::string error;
  double start = 0;  ///< two members starting until both consume every partition (s)
  Settled join;      ///< from the third member's process start
  Settled kill;      ///< from the SIGKILL (includes the session timeout)
};

class RebalanceReport {
 public:
  explicit RebalanceReport(int session_timeout_ms) : session_s_(session_timeout_ms / 1e3) {}
  /// The table's rows come in the order cases and clients are declared.
  void declare(const std::string& kase, const std::string& client);
  /// `client` cannot run `kase`: printed now and in the table.
  void skip(const std::string& kase, const std::string& client, const std::string& why);
  bool skipped(const std::string& kase, const std::string& client) const;
  void add(const std::string& kase, const std::string& client, int rep, const RunFigures& f);
  void print() const;
  bool all_ok() const { return all_ok_; }

 private:
  using Key = std::pair<std::string, std::string>;  // case, client
  double session_s_;
  bool all_ok_ = true;
  std::vector<std::string> cases_, clients_;  // in the order first seen
  std::map<Key, std::vector<RunFigures>> runs_;
  std::map<Key, std::string> skipped_;
};

}  // namespace asiokafka::bench
