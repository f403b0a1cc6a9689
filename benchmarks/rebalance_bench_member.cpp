// rebalance_bench: what both member kinds share: their command line (MemberSpec), the event
// lines they write to the driver, and the SIGTERM that asks them to leave.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "rebalance_bench.hpp"

namespace asiokafka::bench {
namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_term(int) { g_stop = 1; }

void write_all(const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the driver is gone: nothing to tell
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::vector<std::string> MemberSpec::to_args() const {
  return {"--client",           client,
          "--strategy",         strategy,
          "--protocol",         protocol,
          "--bootstrap",        bootstrap,
          "--topic",            topic,
          "--group",            group,
          "--index",            std::to_string(index),
          "--session-timeout-ms", std::to_string(session_timeout_ms),
          "--heartbeat-ms",     std::to_string(heartbeat_ms),
          "--max-poll-ms",      std::to_string(max_poll_ms),
          "--commit-interval-ms", std::to_string(commit_interval_ms),
          "--fetch-wait-ms",    std::to_string(fetch_wait_ms)};
}

MemberSpec MemberSpec::from_args(const std::vector<std::string>& args) {
  MemberSpec s;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) throw std::runtime_error(a + " needs a value");
    const std::string& v = args[++i];
    if (a == "--client") s.client = v;
    else if (a == "--strategy") s.strategy = v;
    else if (a == "--protocol") s.protocol = v;
    else if (a == "--bootstrap") s.bootstrap = v;
    else if (a == "--topic") s.topic = v;
    else if (a == "--group") s.group = v;
    else if (a == "--index") s.index = std::stoi(v);
    else if (a == "--session-timeout-ms") s.session_timeout_ms = std::stoi(v);
    else if (a == "--heartbeat-ms") s.heartbeat_ms = std::stoi(v);
    else if (a == "--max-poll-ms") s.max_poll_ms = std::stoi(v);
    else if (a == "--commit-interval-ms") s.commit_interval_ms = std::stoi(v);
    else if (a == "--fetch-wait-ms") s.fetch_wait_ms = std::stoi(v);
    else throw std::runtime_error("unknown member option " + a);
  }
  return s;
}

void report_line(char kind, std::uint64_t ns, const std::vector<int>& partitions) {
  std::string line;
  line.reserve(32 + partitions.size() * 4);
  line += kind;
  line += ' ';
  line += std::to_string(ns);
  line += ' ';
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (i) line += ',';
    line += std::to_string(partitions[i]);
  }
  if (partitions.empty()) line += '-';
  line += '\n';
  write_all(line);
}

void report_error(const std::string& message) {
  std::string line = "E " + message;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  write_all(line + '\n');
}

bool stop_requested() { return g_stop != 0; }

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

}  // namespace asiokafka::bench
