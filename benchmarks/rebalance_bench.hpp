// Shared pieces of benchmarks/rebalance_bench: what a group member process is asked to do
// (MemberSpec, passed on its command line), the lines it reports to the driver, and the entry
// points of the member and producer processes. See docs/benchmarks.md, "Rebalance".
//
// A member writes one line per event to its stdout (a pipe to the driver), each with a
// CLOCK_MONOTONIC time stamp (ns; one host, so the driver compares them with its own):
//   A <ns> <p,p,...>   partitions added to its assignment (its listener / rebalance callback)
//   R <ns> <p,p,...>   partitions revoked
//   L <ns> <p,p,...>   partitions lost (cooperative: the membership ended without a revoke)
//   C <ns> <p>         records of partition p handed to the application
//   S <ns> -           (java member only) its consumer is constructed and subscribed; --trace
//                      prints it, the figures ignore it
//   E <message>        a fatal error; the member exits
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace asiokafka::bench {

/// One member of the group, the same settings for both clients.
struct MemberSpec {
  std::string client = "ours";        ///< ours, librdkafka or java (a JVM: benchmarks/java/)
  std::string strategy = "range";     ///< range or cooperative-sticky (classic protocol)
  std::string protocol = "classic";   ///< classic or consumer (KIP-848)
  std::string bootstrap, topic, group;
  int index = 0;                      ///< in the client id: rebalance_bench-<index>
  int session_timeout_ms = 6'000;
  int heartbeat_ms = 1'000;
  int max_poll_ms = 30'000;           ///< ours max_poll_interval and rebalance_timeout; librdkafka max.poll.interval.ms
  int commit_interval_ms = 1'000;     ///< auto commit on, both
  int fetch_wait_ms = 500;

  std::vector<std::string> to_args() const;
  /// Parses the options of to_args(); throws std::runtime_error on an unknown one.
  static MemberSpec from_args(const std::vector<std::string>& args);
};

/// Writes one event line (a single write(2), below PIPE_BUF, so lines never interleave).
void report_line(char kind, std::uint64_t ns, const std::vector<int>& partitions);
void report_error(const std::string& message);

/// Set by SIGTERM in a member or producer process: leave the group cleanly and exit.
bool stop_requested();
void install_stop_handler();

/// The member processes of this program (the java member is a JVM): join spec.group over
/// spec.topic and report events until SIGTERM.
/// Return the process's exit code.
int run_member_ours(const MemberSpec& spec);
int run_member_rdkafka(const MemberSpec& spec);

/// The producer process (librdkafka's producer for both clients' runs): every 1/rate s one
/// 100-byte record to each of `partitions` partitions, so every partition has new records to
/// consume after each event. Until SIGTERM.
int run_producer(const std::string& bootstrap, const std::string& topic, int partitions, double rate);

/// Whether this librdkafka accepts group.protocol=consumer (KIP-848); `reason` says why not.
bool rdkafka_supports_consumer_protocol(std::string& reason);
/// librdkafka's version string.
std::string rdkafka_version();

/// Why ours cannot run `protocol` ("" when it can).
std::string ours_unsupported(const std::string& protocol);

/// The java member kind (rebalance_bench_java.cpp): a JVM running RebalanceMember from
/// `classes` with the jars of `libs` (kafka-clients and its dependencies) on its classpath.
struct JavaPeer {
  std::string java;     ///< the launcher's path
  std::string classes;  ///< the dir of RebalanceMember.class
  std::string libs;     ///< the Kafka libs dir
  /// The build's class dir and libs dir (ASIOKAFKA_KAFKA_LIBS first), java from JAVA_HOME or PATH.
  static JavaPeer defaults();
  /// Why a member cannot start ("" when it can).
  std::string unsupported() const;
  /// argv[1..] of the launcher for a member with `spec`.
  std::vector<std::string> member_args(const MemberSpec& spec) const;
};

}  // namespace asiokafka::bench
