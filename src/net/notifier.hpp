// The two async primitives every Asio shell of the library shares: a notifier (wake every
// waiter, each with its own deadline) and a task group (child coroutines that can be cancelled
// together and awaited). Connection, connection pool, metadata and coordinator services and
// the clients to come use these instead of their own timer tricks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/sansio/time.hpp"

namespace asiokafka::net {

/// How a wait ended.
enum class wait_status { notified, timed_out, cancelled };

/// Sleeps until `t` on the awaiting coroutine's executor; false when that coroutine was
/// cancelled first. Never throws for it.
boost::asio::awaitable<bool> sleep_until(time_point t);

/// Wakes every coroutine waiting on it, like a condition variable for one executor (no
/// locks: waiters and notify_all() run on the same executor). A notification wakes only the
/// waiters present at that moment; callers re-check their condition in a loop bounded by a
/// deadline. The notifier must outlive its waiters.
class notifier {
 public:
  notifier() = default;
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  /// Until notify_all() (notified), `deadline` (timed_out) or cancellation of the awaiting
  /// operation (cancelled). Never throws for these.
  boost::asio::awaitable<wait_status> wait_until(time_point deadline);
  void notify_all();
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  struct entry;
  std::list<entry*> waiters_;
};

/// Child coroutines of one owner. Each runs on the group's executor bound to its own
/// cancellation signal and is counted until it ends; cancel_all() cancels them (terminal) and
/// join() waits for them. Tasks report errors as values: an exception escaping one is dropped.
/// The group may be destroyed while tasks run (they keep its state alive); its destructor
/// cancels them without waiting.
class task_group {
 public:
  explicit task_group(boost::asio::any_io_executor executor);
  ~task_group();
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  /// Starts `task`. `owner` (optional) is kept alive until the task has ended, for tasks that
  /// use their owner's members.
  void spawn(boost::asio::awaitable<void> task, std::shared_ptr<void> owner = {});
  /// Emits terminal cancellation to every running task, on the group's executor: at once when
  /// called there, else when that executor next runs (also from the destructor).
  void cancel_all();
  std::size_t running() const noexcept;
  /// Waits until no task runs (tasks started meanwhile included). Returns cancelled when the
  /// awaiting operation is cancelled, timed_out at `deadline`.
  boost::asio::awaitable<wait_status> join(time_point deadline = time_point::max());

 private:
  struct state;
  std::shared_ptr<state> state_;
};

/// Listeners of one kind of event (metadata changes, coordinator changes, connection
/// failures). Listeners run synchronously inside emit(), on the emitter's executor, in the order
/// they subscribed; they must not block. A subscription unsubscribes when destroyed, also from
/// inside its own listener, and may outlive the source.
template <class Event>
class event_source {
  struct registry {
    std::map<std::uint64_t, std::function<void(const Event&)>> listeners;
    std::uint64_t next = 1;
  };

 public:
  class subscription {
   public:
    subscription() = default;
    subscription(std::weak_ptr<registry> r, std::uint64_t id) : registry_(std::move(r)), id_(id) {}
    subscription(subscription&& o) noexcept : registry_(std::move(o.registry_)), id_(std::exchange(o.id_, 0)) {}
    subscription& operator=(subscription&& o) noexcept {
      if (this != &o) {
        reset();
        registry_ = std::move(o.registry_);
        id_ = std::exchange(o.id_, 0);
      }
      return *this;
    }
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription() { reset(); }
    void reset() {
      if (auto r = registry_.lock(); r && id_ != 0) r->listeners.erase(id_);
      id_ = 0;
    }

   private:
    std::weak_ptr<registry> registry_;
    std::uint64_t id_ = 0;
  };

  [[nodiscard]] subscription subscribe(std::function<void(const Event&)> listener) {
    const std::uint64_t id = registry_->next++;
    registry_->listeners.emplace(id, std::move(listener));
    return subscription(registry_, id);
  }

  void emit(const Event& e) {
    const auto keep = registry_;  // a listener may destroy the source's owner
    // By id, re-finding after each call: a listener may unsubscribe itself or others. Those
    // subscribed during this emit wait for the next one.
    const std::uint64_t end = keep->next;
    for (std::uint64_t id = 0;;) {
      auto it = keep->listeners.upper_bound(id);
      if (it == keep->listeners.end() || it->first >= end) break;
      id = it->first;
      auto listener = it->second;  // a copy: the entry may go away while it runs
      listener(e);
    }
  }

  std::size_t size() const noexcept { return registry_->listeners.size(); }

 private:
  std::shared_ptr<registry> registry_ = std::make_shared<registry>();
};

}  // namespace asiokafka::net
