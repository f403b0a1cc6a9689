// producer_bench: the measurements (CPU time of a process's threads, peak RSS, latency
// percentiles) and the processes: each client runs in a forked child, so its peak RSS and
// its threads are its own; the peers (franz-go, the Java tool) are executed and measured
// with wait4's rusage.
#include "producer_bench_procs.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace asiokafka::bench {

void set_error(RunResult& r, const std::string& message) {
  std::snprintf(r.error, sizeof r.error, "%s", message.c_str());
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t this_thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t process_threads_cpu_ns() {
  std::uint64_t sum = 0;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    // schedstat: time on the CPU (ns), time waiting for it, time slices.
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/schedstat");
    std::uint64_t on_cpu = 0;
    if (in >> on_cpu) sum += on_cpu;
  }
  closedir(dir);
  return sum;
}

long peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

void summarize_latency(std::vector<std::uint64_t>& ns, RunResult& r) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size()))) - 1;
    return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1e3;
  };
  r.p50_us = at(0.50);
  r.p99_us = at(0.99);
  r.p999_us = at(0.999);
  r.max_us = static_cast<double>(ns.back()) / 1e3;
}

RunResult run_in_child(const std::function<RunResult()>& body, int timeout_s) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    RunResult r = body();
    r.peak_rss_kib = peak_rss_kib();
    const char* p = reinterpret_cast<const char*>(&r);
    std::size_t left = sizeof r;
    while (left > 0) {
      const ssize_t n = write(fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  RunResult r;
  std::size_t got = 0;
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout_s) * 1'000'000'000u;
  bool timed_out = false;
  while (got < sizeof r) {
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int left_ms = static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, 1000));
    if (poll(&pfd, 1, left_ms) <= 0) continue;
    const ssize_t n = read(fds[0], reinterpret_cast<char*>(&r) + got, sizeof r - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof r) {
    RunResult failed;
    set_error(failed, timed_out ? "timed out after " + std::to_string(timeout_s) + " s (child killed)"
                                : "child died (status " + std::to_string(status) + ")");
    return failed;
  }
  return r;
}

ExecResult run_program(const std::vector<std::string>& argv, int timeout_s) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  ExecResult out;
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout_s) * 1'000'000'000u;
  char buf[4096];
  for (;;) {
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) {
      out.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    if (poll(&pfd, 1, 1000) <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.output.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.cpu_ns = (static_cast<std::uint64_t>(ru.ru_utime.tv_sec) + static_cast<std::uint64_t>(ru.ru_stime.tv_sec)) *
                   1'000'000'000u +
               (static_cast<std::uint64_t>(ru.ru_utime.tv_usec) + static_cast<std::uint64_t>(ru.ru_stime.tv_usec)) *
                   1'000u;
  out.peak_rss_kib = ru.ru_maxrss;
  return out;
}

}  // namespace asiokafka::bench
