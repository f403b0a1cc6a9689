// What the long-running consumer examples share: stopping the consumer on SIGINT or SIGTERM,
// the optional bounds of a run (--max-records, --idle-exit-ms) that let a test run them, and
// the group protocol option (--group-protocol classic|consumer).
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/signal_set.hpp>

#include "asiokafka/consumer.hpp"
#include "cli.hpp"

namespace examples {

/// --group-protocol classic|consumer (ConsumerConfig::group_protocol; classic when absent).
inline asiokafka::GroupProtocol group_protocol_of(const CommandLine& cl) {
  const std::string name = cl.text("group-protocol", "classic");
  if (name == "classic") return asiokafka::GroupProtocol::classic;
  if (name == "consumer") return asiokafka::GroupProtocol::consumer;
  throw std::invalid_argument("unknown --group-protocol " + name + " (classic or consumer)");
}

/// Calls consumer.stop() on SIGINT or SIGTERM: a get*() waiting then ends with
/// client_errc::consumer_stopped, so the consume loop ends and the program exits cleanly.
/// Destroy it before the consumer.
class StopOnSignal {
 public:
  explicit StopOnSignal(asiokafka::Consumer& consumer)
      : signals_(consumer.get_executor(), SIGINT, SIGTERM), target_(std::make_shared<asiokafka::Consumer*>(&consumer)) {
    // The handler may already be queued when this object goes: it finds the target cleared.
    signals_.async_wait([target = target_](const boost::system::error_code& ec, int signo) {
      if (ec || !*target) return;  // cancelled: the program is ending anyway
      std::fprintf(stderr, "signal %d: stopping\n", signo);
      (*target)->stop([](asiokafka::error_code) {});  // the consume loop awaits the end of it
    });
  }
  ~StopOnSignal() { *target_ = nullptr; }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  boost::asio::signal_set signals_;
  std::shared_ptr<asiokafka::Consumer*> target_;
};

/// The bounds of a run: at most --max-records records, and no longer than --idle-exit-ms
/// without a record (counted from the start until the first one). Unset: no bound.
class RunLimits {
 public:
  explicit RunLimits(const CommandLine& cl)
      : max_records_(cl.number("max-records", -1)), idle_(cl.number("idle-exit-ms", -1)) {}

  /// Records the next getmany() may return (0: no limit).
  std::size_t room(long long consumed) const {
    return max_records_ < 0 ? 0 : static_cast<std::size_t>(max_records_ - consumed);
  }
  /// Called after each getmany() with the total consumed so far and that call's count.
  bool done(long long consumed, std::size_t got) {
    const auto now = std::chrono::steady_clock::now();
    if (got > 0) last_record_ = now;
    if (max_records_ >= 0 && consumed >= max_records_) return true;
    return idle_.count() >= 0 && now - last_record_ >= idle_;
  }

 private:
  long long max_records_;
  std::chrono::milliseconds idle_;
  std::chrono::steady_clock::time_point last_record_ = std::chrono::steady_clock::now();
};

}  // namespace examples
