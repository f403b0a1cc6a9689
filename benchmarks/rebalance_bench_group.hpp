// rebalance_bench, the driver's side: member processes (forked and executed from this program,
// their stdout a pipe to the driver) and what their event lines say about the group: who holds
// which partition since when, and when each holder first handed a record of it to its
// application after the event being measured.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace asiokafka::bench {

/// A process started with `args` (argv[1..]); its stdout is `fd`.
struct Child {
  pid_t pid = -1;
  int fd = -1;
};
/// `program` is a path (no PATH search); its stderr is ours.
Child spawn_program(const std::string& program, const std::vector<std::string>& args);
/// A process of this program.
inline Child spawn_self(const std::string& self, const std::vector<std::string>& args) {
  return spawn_program(self, args);
}
/// SIGTERM, then SIGKILL if it has not exited within `grace_ms`; reaps it. Returns what it
/// printed after the call (its last lines, e.g. an E line).
std::string stop_child(Child& c, int grace_ms);

/// When the group had settled after an event, relative to the event (seconds).
struct Settled {
  double assigned = 0;  ///< the last partition reached its final owner
  double consumed = 0;  ///< the last partition's first record reached its final owner's application
};

/// Members of one group (one measured run) and the view their lines give.
class GroupRun {
 public:
  GroupRun(std::string self, int partitions) : self_(std::move(self)), partitions_(partitions) {}
  GroupRun(const GroupRun&) = delete;
  GroupRun& operator=(const GroupRun&) = delete;
  ~GroupRun();

  /// Starts a member process of this program; returns its index (0, 1, ...).
  int start_member(const std::vector<std::string>& args) { return start_member(self_, args); }
  /// Starts a member process of another program (the Java member).
  int start_member(const std::string& program, const std::vector<std::string>& args);
  /// SIGKILLs member `i` (no leave, no commit) and forgets what it held.
  void kill_member(int i);
  /// Stops every live member (SIGTERM: commit and leave), bounded.
  void stop_all();

  /// From now on, a partition counts as consumed again only by a record its holder received
  /// at or after `t0` (CLOCK_MONOTONIC ns).
  void begin_event(std::uint64_t t0);
  /// Reads the members' lines until `done()` holds, a member fails (error() set) or
  /// `deadline` (monotonic ns) passes. Returns done().
  bool pump_until(std::uint64_t deadline, const std::function<bool()>& done);
  /// Settled if exactly `members` hold the partitions, each partition once, balanced (within
  /// one), and every holder received a record of each since it got it and since the event.
  std::optional<Settled> settled(const std::set<int>& members) const;

  /// Print every assignment change (A, R, L lines) with its time since the event.
  void set_trace(bool on) { trace_ = on; }

  /// The first failure: an E line or a member that exited by itself.
  const std::string& error() const { return error_; }
  /// Who holds what (for a report of a group that did not settle).
  std::string describe() const;
  /// Per member, the time from getting a partition (or the event) to its first record:
  /// median and largest (for --trace).
  std::string resume_summary() const;

 private:
  struct Holding {
    std::uint64_t since = 0;
    std::uint64_t consumed = 0;  ///< first record at or after max(since, t0); 0: none yet
  };
  struct Member {
    Child child;
    bool alive = true;
    std::string buffer;
    std::map<int, Holding> held;
  };
  void read_from(int i);
  void on_line(int i, const std::string& line);

  std::string self_;
  int partitions_;
  std::uint64_t t0_ = 0;
  std::vector<Member> members_;
  std::string error_;
  bool trace_ = false;
};

}  // namespace asiokafka::bench
