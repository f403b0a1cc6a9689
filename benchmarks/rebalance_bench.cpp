// rebalance_bench: how long a consumer group of 3 members over 48 partitions takes to consume
// every partition again after a member joins and after one is killed, for asiokafka's Consumer
// beside librdkafka's consumer and (--clients ...,java) the Java client's KafkaConsumer in the
// same run, with the same settings (issue 11, "Benchmark"). docs/benchmarks.md ("Rebalance") has
// the command lines and results.
//
//   rebalance_bench [--bootstrap host:port] [--reps N] [--clients ours,librdkafka[,java]]
//                   [--protocol classic,consumer] [--cases eager-range,cooperative-sticky]
//                   [--partitions N] [--session-timeout-ms N] [--heartbeat-ms N] [--max-poll-ms N]
//                   [--commit-interval-ms N] [--fetch-wait-ms N] [--rate N] [--settle-ms N]
//                   [--event-timeout-s N] [--topic-prefix NAME] [--trace]
//                   [--java PATH] [--java-classes DIR] [--java-libs DIR]
//
// Each member is a process of this program (`--member ...`), so "killed" is a real SIGKILL; a
// java member is a JVM running benchmarks/java/RebalanceMember.java (built with this program
// when CMake finds javac and the Kafka libs) with the same member options and event lines:
// `java -cp <--java-classes>:<--java-libs>/* RebalanceMember ...`. --java-classes defaults to
// the build's class dir, --java-libs to $ASIOKAFKA_KAFKA_LIBS, else the libs dir CMake used (the
// rig's Kafka libs: kafka-clients and its dependencies), --java to $JAVA_HOME/bin/java, else
// java on PATH; when one is missing the java client is skipped with the reason. A
// producer process (`--producer ...`) writes --rate records/s to every partition throughout, so
// each partition has records to consume after every event. One run, in a fresh group: members
// 0 and 1 start and share the partitions; after --settle-ms member 2 starts (the join event);
// once the group has settled again and --settle-ms passed, member 0 is SIGKILLed (the kill
// event). An event ends when exactly the expected members hold the partitions (each once,
// balanced) and each holder has handed a record of each of its partitions to the application
// since it got the partition and since the event. Members report over pipes, with
// CLOCK_MONOTONIC time stamps.
//
// --protocol consumer (KIP-848) runs the case "kip848" where a client supports it (ours and
// java; not Debian's librdkafka 2.0.2), and otherwise prints why it is skipped.
//
// --trace prints each member's assignment changes (seconds since the event being measured).
//
// Without --bootstrap, the PLAINTEXT bootstrap of the rig.env named by ASIOKAFKA_RIG_ENV.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "rebalance_bench.hpp"
#include "rebalance_bench_group.hpp"
#include "rebalance_bench_report.hpp"

namespace asiokafka::bench {
namespace {

struct Options {
  std::string bootstrap;
  int reps = 3;
  std::vector<std::string> clients{"ours", "librdkafka"};
  std::vector<std::string> protocols{"classic", "consumer"};
  std::vector<std::string> cases{"eager-range", "cooperative-sticky"};
  int partitions = 48;
  double rate = 20;  ///< records per second per partition
  int settle_ms = 2'000;
  int event_timeout_s = 60;
  bool trace = false;
  std::string topic_prefix = "rebalance-bench";
  MemberSpec member;  ///< the group settings, the same for every member
  JavaPeer java = JavaPeer::defaults();
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
    else if (a == "--reps") o.reps = std::stoi(value());
    else if (a == "--clients") o.clients = split(value());
    else if (a == "--protocol") o.protocols = split(value());
    else if (a == "--cases") o.cases = split(value());
    else if (a == "--partitions") o.partitions = std::stoi(value());
    else if (a == "--session-timeout-ms") o.member.session_timeout_ms = std::stoi(value());
    else if (a == "--heartbeat-ms") o.member.heartbeat_ms = std::stoi(value());
    else if (a == "--max-poll-ms") o.member.max_poll_ms = std::stoi(value());
    else if (a == "--commit-interval-ms") o.member.commit_interval_ms = std::stoi(value());
    else if (a == "--fetch-wait-ms") o.member.fetch_wait_ms = std::stoi(value());
    else if (a == "--rate") o.rate = std::stod(value());
    else if (a == "--settle-ms") o.settle_ms = std::stoi(value());
    else if (a == "--event-timeout-s") o.event_timeout_s = std::stoi(value());
    else if (a == "--topic-prefix") o.topic_prefix = value();
    else if (a == "--trace") o.trace = true;
    else if (a == "--java") o.java.java = value();
    else if (a == "--java-classes") o.java.classes = value();
    else if (a == "--java-libs") o.java.libs = value();
    else if (a == "--help" || a == "-h") {
      std::printf("see the comment at the top of benchmarks/rebalance_bench.cpp and docs/benchmarks.md\n");
      std::exit(0);
    } else {
      throw std::runtime_error("unknown option " + a);
    }
  }
  if (o.bootstrap.empty()) o.bootstrap = rig_bootstrap();
  o.member.bootstrap = o.bootstrap;
  for (const auto& p : o.protocols) {
    if (p != "classic" && p != "consumer") throw std::runtime_error("--protocol takes classic and/or consumer");
  }
  for (const auto& c : o.cases) {
    if (c != "eager-range" && c != "cooperative-sticky") throw std::runtime_error("unknown case " + c);
  }
  for (const auto& c : o.clients) {
    if (c != "ours" && c != "librdkafka" && c != "java") throw std::runtime_error("unknown client " + c);
  }
  if (o.partitions < 3 || o.reps < 1 || o.rate <= 0) throw std::runtime_error("bad --partitions, --reps or --rate");
  return o;
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string unique_name(const std::string& stem) {
  static std::mt19937_64 rng{std::random_device{}()};
  return stem + "-" + std::to_string(getpid()) + "-" + std::to_string(rng() % 1'000'000'000u);
}

// A case: its name, its protocol and (classic) its assignor.
struct Case {
  std::string name, protocol, strategy;
};

// One run of one client: start 2, join 1, kill 1. Throws std::runtime_error on a failure.
RunFigures run_once(const Options& o, const std::string& self, const std::string& topic, const Case& c,
                    const std::string& client) {
  MemberSpec spec = o.member;
  spec.client = client;
  spec.strategy = c.strategy;
  spec.protocol = c.protocol;
  spec.topic = topic;
  spec.group = unique_name("rebalance-bench-" + client + "-" + c.name);
  auto args_of = [&](int index) {
    spec.index = index;
    std::vector<std::string> args{"--member"};
    const std::vector<std::string> rest = spec.to_args();
    args.insert(args.end(), rest.begin(), rest.end());
    return args;
  };
  const bool java = client == "java";
  const std::uint64_t timeout_ns = static_cast<std::uint64_t>(o.event_timeout_s) * 1'000'000'000u;
  const std::uint64_t settle_ns = static_cast<std::uint64_t>(o.settle_ms) * 1'000'000u;
  GroupRun group(self, o.partitions);
  group.set_trace(o.trace);
  auto wait_settled = [&](const std::set<int>& members, std::uint64_t deadline, const char* what) {
    if (!group.pump_until(deadline, [&] { return group.settled(members).has_value(); })) {
      throw std::runtime_error(std::string(what) + ": " +
                               (group.error().empty() ? "not settled in time; " + group.describe() : group.error()));
    }
    if (o.trace) std::printf("    settled: %s\n", group.resume_summary().c_str());
    return *group.settled(members);
  };
  auto settle = [&] {
    group.pump_until(monotonic_ns() + settle_ns, [] { return false; });
    if (!group.error().empty()) throw std::runtime_error(group.error());
  };
  auto start = [&](int index) {
    if (java) {
      spec.index = index;
      group.start_member(o.java.java, o.java.member_args(spec));
    } else {
      group.start_member(args_of(index));
    }
  };
  RunFigures f;
  group.begin_event(monotonic_ns());
  start(0);
  start(1);
  f.start = wait_settled({0, 1}, monotonic_ns() + timeout_ns, "two members starting").consumed;
  settle();
  const std::uint64_t t_join = monotonic_ns();
  group.begin_event(t_join);
  start(2);
  f.join = wait_settled({0, 1, 2}, t_join + timeout_ns, "third member joining");
  settle();
  const std::uint64_t t_kill = monotonic_ns();
  group.begin_event(t_kill);
  group.kill_member(0);
  const std::uint64_t session_ns = static_cast<std::uint64_t>(o.member.session_timeout_ms) * 1'000'000u;
  f.kill = wait_settled({1, 2}, t_kill + session_ns + timeout_ns, "member 0 killed");
  group.stop_all();
  f.ok = true;
  return f;
}

int run(const Options& o) {
  const std::string self = self_path();
  std::vector<Case> cases;
  for (const auto& p : o.protocols) {
    if (p == "classic") {
      for (const auto& c : o.cases) cases.push_back({c, "classic", c == "eager-range" ? "range" : c});
    } else {
      cases.push_back({"kip848", "consumer", ""});
    }
  }
  std::printf("rebalance_bench: bootstrap %s, %d partitions, 3 members (2 start, 1 joins, then the first is "
              "SIGKILLed), session timeout %d ms, heartbeat %d ms, max poll / rebalance timeout %d ms, auto commit "
              "every %d ms, fetch_max_wait %d ms, fetch_min_bytes 1, auto_offset_reset latest, %.0f records/s per "
              "partition, settle %d ms, %d repetition(s); librdkafka %s\n",
              o.bootstrap.c_str(), o.partitions, o.member.session_timeout_ms, o.member.heartbeat_ms,
              o.member.max_poll_ms, o.member.commit_interval_ms, o.member.fetch_wait_ms, o.rate, o.settle_ms, o.reps,
              rdkafka_version().c_str());
  if (std::find(o.clients.begin(), o.clients.end(), "java") != o.clients.end()) {
    std::printf("java client: %s -cp %s:%s/* RebalanceMember\n", o.java.java.c_str(), o.java.classes.c_str(),
                o.java.libs.c_str());
  }
  RebalanceReport report(o.member.session_timeout_ms);
  // Which client can run which case (a skip is printed once and shown in the table).
  for (const auto& c : cases) {
    for (const auto& client : o.clients) {
      report.declare(c.name, client);
      std::string why;
      if (client == "ours") why = ours_unsupported(c.protocol);
      if (client == "librdkafka" && c.protocol == "consumer") rdkafka_supports_consumer_protocol(why);
      if (client == "java") why = o.java.unsupported();
      if (!why.empty()) report.skip(c.name, client, why);
    }
  }
  const std::string topic = unique_name(o.topic_prefix);
  create_topic(o.bootstrap, topic, o.partitions);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", o.rate);
  Child producer = spawn_self(
      self, {"--producer", "--bootstrap", o.bootstrap, "--topic", topic, "--partitions", std::to_string(o.partitions),
             "--rate", rate});
  std::printf("topic %s: %d partitions, a producer writing %s records/s to each\n", topic.c_str(), o.partitions,
              rate);
  for (int rep = 0; rep < o.reps; ++rep) {
    for (const auto& c : cases) {
      std::vector<std::string> order = o.clients;
      if (rep % 2 == 1) std::reverse(order.begin(), order.end());
      for (const auto& client : order) {
        if (report.skipped(c.name, client)) continue;
        RunFigures f;
        try {
          f = run_once(o, self, topic, c, client);
        } catch (const std::exception& e) {
          f.ok = false;
          f.error = e.what();
        }
        report.add(c.name, client, rep, f);
      }
    }
  }
  const std::string said = stop_child(producer, 15'000);
  if (!said.empty()) std::printf("producer: %s\n", said.c_str());
  report.print();
  return report.all_ok() ? 0 : 1;
}

}  // namespace
}  // namespace asiokafka::bench

int main(int argc, char** argv) {
  using namespace asiokafka::bench;
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "--member") {
      install_stop_handler();
      const MemberSpec spec = MemberSpec::from_args({args.begin() + 1, args.end()});
      if (spec.client == "ours") return run_member_ours(spec);
      if (spec.client == "librdkafka") return run_member_rdkafka(spec);
      report_error("client " + spec.client + " has no member in this program");
      return 2;
    }
    if (!args.empty() && args[0] == "--producer") {
      install_stop_handler();
      std::string bootstrap, topic;
      int partitions = 0;
      double rate = 0;
      for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--bootstrap") bootstrap = args[i + 1];
        else if (args[i] == "--topic") topic = args[i + 1];
        else if (args[i] == "--partitions") partitions = std::stoi(args[i + 1]);
        else if (args[i] == "--rate") rate = std::stod(args[i + 1]);
      }
      return run_producer(bootstrap, topic, partitions, rate);
    }
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rebalance_bench: %s\n", e.what());
    return 2;
  }
}
