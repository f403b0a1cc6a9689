// rebalance_bench: member processes and the group view of their lines (rebalance_bench_group.hpp).
#include "rebalance_bench_group.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "producer_bench.hpp"

namespace asiokafka::bench {
namespace {

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  if (s == "-") return out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

// Appends what `fd` has now (non-blocking); false at end of file.
bool drain(int fd, std::string& into) {
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

}  // namespace

Child spawn_program(const std::string& program, const std::vector<std::string>& args) {
  // Everything exec needs is made before fork: the driver may have librdkafka's threads.
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);  // the copy is not close-on-exec
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return Child{pid, fds[0]};
}

std::string stop_child(Child& c, int grace_ms) {
  std::string out;
  if (c.pid < 0) return out;
  kill(c.pid, SIGTERM);
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(grace_ms) * 1'000'000u;
  bool eof = c.fd < 0;
  while (!eof && monotonic_ns() < deadline) {
    pollfd p{c.fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) eof = !drain(c.fd, out);
  }
  if (!eof) kill(c.pid, SIGKILL);
  waitpid(c.pid, nullptr, 0);
  if (c.fd >= 0) close(c.fd);
  c = Child{};
  return out;
}

GroupRun::~GroupRun() {
  for (auto& m : members_) {
    if (m.child.pid > 0) {
      kill(m.child.pid, SIGKILL);
      waitpid(m.child.pid, nullptr, 0);
    }
    if (m.child.fd >= 0) close(m.child.fd);
  }
}

int GroupRun::start_member(const std::string& program, const std::vector<std::string>& args) {
  Member m;
  m.child = spawn_program(program, args);
  members_.push_back(std::move(m));
  return static_cast<int>(members_.size()) - 1;
}

void GroupRun::kill_member(int i) {
  Member& m = members_.at(static_cast<std::size_t>(i));
  kill(m.child.pid, SIGKILL);
  waitpid(m.child.pid, nullptr, 0);
  m.child.pid = -1;
  m.alive = false;
  m.held.clear();
  if (m.child.fd >= 0) close(m.child.fd);
  m.child.fd = -1;
}

void GroupRun::stop_all() {
  // SIGTERM to all first, so they leave together rather than one rebalance after another.
  for (auto& m : members_) {
    if (m.child.pid > 0) kill(m.child.pid, SIGTERM);
  }
  for (auto& m : members_) {
    if (m.child.pid > 0) stop_child(m.child, 10'000);
    m.alive = false;
  }
}

void GroupRun::begin_event(std::uint64_t t0) {
  t0_ = t0;
  for (auto& m : members_) {
    for (auto& entry : m.held) entry.second.consumed = 0;
  }
}

void GroupRun::on_line(int i, const std::string& line) {
  Member& m = members_[static_cast<std::size_t>(i)];
  if (line.size() < 2) return;
  if (line[0] == 'E') {
    if (error_.empty()) error_ = "member " + std::to_string(i) + ": " + line.substr(2);
    return;
  }
  std::istringstream in(line.substr(2));
  std::uint64_t ns = 0;
  std::string list;
  in >> ns >> list;
  const std::vector<int> parts = parse_list(list);
  if (trace_ && line[0] != 'C') {
    std::printf("    %+8.3f s  member %d %c %s\n", (static_cast<double>(ns) - static_cast<double>(t0_)) / 1e9, i, line[0],
                list.c_str());
  }
  switch (line[0]) {
    case 'A':
      for (int p : parts) m.held[p] = Holding{ns, 0};
      break;
    case 'R':
    case 'L':
      for (int p : parts) m.held.erase(p);
      break;
    case 'C':
      for (int p : parts) {
        auto it = m.held.find(p);
        if (it != m.held.end() && it->second.consumed == 0 && ns >= t0_ && ns >= it->second.since) {
          it->second.consumed = ns;
        }
      }
      break;
    default:
      break;
  }
}

void GroupRun::read_from(int i) {
  Member& m = members_[static_cast<std::size_t>(i)];
  const bool open = drain(m.child.fd, m.buffer);
  std::size_t start = 0;
  for (std::size_t nl; (nl = m.buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    on_line(i, m.buffer.substr(start, nl - start));
  }
  m.buffer.erase(0, start);
  if (!open) {
    int status = 0;
    waitpid(m.child.pid, &status, 0);
    close(m.child.fd);
    m.child = Child{};
    m.alive = false;
    m.held.clear();
    if (error_.empty()) {
      error_ = "member " + std::to_string(i) + " exited by itself (status " + std::to_string(status) + ")";
    }
  }
}

bool GroupRun::pump_until(std::uint64_t deadline, const std::function<bool()>& done) {
  for (;;) {
    if (!error_.empty()) return false;
    if (done()) return true;
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) return false;
    std::vector<pollfd> fds;
    std::vector<int> who;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].child.fd < 0) continue;
      fds.push_back(pollfd{members_[i].child.fd, POLLIN, 0});
      who.push_back(static_cast<int>(i));
    }
    const int wait_ms = static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, 100));
    if (poll(fds.data(), fds.size(), wait_ms) <= 0) continue;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents) read_from(who[k]);
    }
  }
}

std::optional<Settled> GroupRun::settled(const std::set<int>& members) const {
  std::vector<int> owners(static_cast<std::size_t>(partitions_), 0);
  const int n = static_cast<int>(members.size());
  const int low = partitions_ / n;
  const int high = low + (partitions_ % n ? 1 : 0);
  std::uint64_t assigned = t0_, consumed = t0_;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const Member& m = members_[i];
    const int count = static_cast<int>(m.held.size());
    if (!members.count(static_cast<int>(i))) {
      if (count) return std::nullopt;
      continue;
    }
    if (!m.alive || count < low || count > high) return std::nullopt;
    for (const auto& entry : m.held) {
      if (entry.first < 0 || entry.first >= partitions_) return std::nullopt;
      if (entry.second.consumed == 0) return std::nullopt;
      ++owners[static_cast<std::size_t>(entry.first)];
      assigned = std::max(assigned, entry.second.since);
      consumed = std::max(consumed, entry.second.consumed);
    }
  }
  for (int o : owners) {
    if (o != 1) return std::nullopt;
  }
  return Settled{static_cast<double>(assigned - t0_) / 1e9, static_cast<double>(consumed - t0_) / 1e9};
}

std::string GroupRun::describe() const {
  std::string out;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const Member& m = members_[i];
    int consumed = 0;
    for (const auto& entry : m.held) consumed += entry.second.consumed ? 1 : 0;
    out += "member " + std::to_string(i) + (m.alive ? "" : " (gone)") + ": holds " + std::to_string(m.held.size()) +
           ", consumed again " + std::to_string(consumed) + "; ";
  }
  return out;
}

}  // namespace asiokafka::bench

namespace asiokafka::bench {

std::string GroupRun::resume_summary() const {
  std::string out;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    std::vector<std::uint64_t> waits;
    int worst = -1;
    for (const auto& entry : members_[i].held) {
      if (!entry.second.consumed) continue;
      const std::uint64_t wait = entry.second.consumed - std::max(entry.second.since, t0_);
      if (waits.empty() || wait > *std::max_element(waits.begin(), waits.end())) worst = entry.first;
      waits.push_back(wait);
    }
    if (waits.empty()) continue;
    std::sort(waits.begin(), waits.end());
    char buf[160];
    std::snprintf(buf, sizeof buf, "member %zu: got to first record median %.3f s, max %.3f s (partition %d); ", i,
                  static_cast<double>(waits[waits.size() / 2]) / 1e9, static_cast<double>(waits.back()) / 1e9, worst);
    out += buf;
  }
  return out;
}

}  // namespace asiokafka::bench
