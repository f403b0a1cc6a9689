#include "net/metadata_service.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
namespace msg = protocol::messages;

metadata_service::metadata_service(asio::any_io_executor executor, const ClientConfig& config, sender send_any)
    : executor_(std::move(executor)),
      send_any_(std::move(send_any)),
      allow_auto_create_(config.allow_auto_create_topics),
      cache_(metadata_cache_config{.metadata_max_age = config.metadata_max_age}),
      scheduler_(refresh_config{.retry_backoff = config.retry_backoff}),
      wakeup_(executor_, time_point::max()),
      tasks_(executor_) {}

typed_request<msg::MetadataRequest> metadata_service::make_request(const metadata_scope& scope,
                                                                          bool allow_auto_create) {
  return typed_request<msg::MetadataRequest>(make_metadata_request(scope, allow_auto_create), 1,
                                                     msg::MetadataRequest::max_version);
}

void metadata_service::start(std::weak_ptr<void> owner) {
  owner_ = std::move(owner);
  tasks_.spawn(refresh_loop(), owner_.lock());
}

void metadata_service::shutdown() {
  if (closed_) return;
  closed_ = true;
  tasks_.cancel_all();
  wakeup_.cancel();
  for (auto& [id, w] : waiters_) w->done.notify_all();
}

asio::awaitable<void> metadata_service::join(time_point deadline) { (void)co_await tasks_.join(deadline); }

asio::awaitable<failure> metadata_service::refresh(std::vector<std::string> topics, bool wait_for_leaders,
                                                   time_point deadline) {
  auto label = [&] {
    std::string names;
    for (const auto& t : topics) names += (names.empty() ? "" : ", ") + t;
    return "metadata refresh" + (names.empty() ? std::string() : " for " + names);
  };
  if (closed_) co_return failure(client_errc::client_closed, label() + ": the client is closed");
  const waiter_id id = scheduler_.ask(refresh_ask{.topics = topics, .wait_for_leaders = wait_for_leaders,
                                                  .deadline = deadline});
  waiter w;
  waiters_.emplace(id, &w);
  poke();
  // The scheduler completes the waiter by its deadline (expire); the bound here is the same
  // deadline, so a lost wake-up cannot keep us.
  wait_status status = wait_status::notified;
  while (!w.result && !closed_ && status == wait_status::notified) status = co_await w.done.wait_until(deadline);
  waiters_.erase(id);
  if (!w.result) {
    scheduler_.cancel(id);  // its completion finds no waiter and is dropped
    if (closed_) co_return failure(client_errc::client_closed, label() + ": the client is closed");
    if (status == wait_status::cancelled) {
      co_return failure(std::make_error_code(std::errc::operation_canceled), label() + ": cancelled");
    }
    co_return failure(client_errc::timeout, label() + ": not complete by its deadline");
  }
  if (*w.result) co_return failure(*w.result, label());
  co_return failure{};
}

apply_result metadata_service::apply(const msg::MetadataResponse& response, const metadata_scope& scope) {
  apply_result changes = cache_.apply(response, clock::now(), scope);
  if (changes.changed()) changes_.emit(changes);
  poke();
  return changes;
}

void metadata_service::invalidate(std::string_view topic, std::int32_t partition, std::error_code reason) {
  cache_.invalidate(topic, partition, reason);
  poke();
}

void metadata_service::mark_urgent() {
  cache_.mark_urgent();
  poke();
}

void metadata_service::track(const std::string& topic) {
  scheduler_.track(topic);
  if (cache_.topic(topic) == nullptr) mark_urgent();
}

void metadata_service::untrack(const std::string& topic) { scheduler_.untrack(topic); }

void metadata_service::set_all_topics(bool on) {
  if (scheduler_.all_topics() == on) return;
  scheduler_.set_all_topics(on);
  if (on) mark_urgent();
}

asio::awaitable<void> metadata_service::refresh_loop() {
  while (!closed_) {
    const auto now = clock::now();
    scheduler_.expire(now);
    if (!scheduler_.in_flight()) {
      if (auto plan = scheduler_.poll(now, cache_)) tasks_.spawn(refresh_task(std::move(*plan)), owner_.lock());
    }
    while (auto done = scheduler_.next_completion()) {
      const auto it = waiters_.find(done->id);
      if (it == waiters_.end()) continue;
      it->second->result = done->ec;
      it->second->done.notify_all();
    }
    const std::optional<time_point> next = scheduler_.next_wakeup(cache_);
    wakeup_.expires_at(next ? std::max(*next, now) : time_point::max());
    try {
      boost::system::error_code ignored;
      co_await wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    } catch (const boost::system::system_error&) {
      break;  // the task was cancelled: the client is closing
    }
  }
}

asio::awaitable<void> metadata_service::refresh_task(refresh_plan plan) {
  auto request = make_request(plan.scope, allow_auto_create_);
  const failure f = co_await send_any_(request);
  if (closed_) co_return;
  if (f) {
    scheduler_.on_failure(plan.generation, f.code, clock::now());
  } else {
    const apply_result changes = scheduler_.on_response(plan.generation, request.message(), cache_, clock::now());
    if (changes.changed()) changes_.emit(changes);
  }
  poke();
}

}  // namespace asiokafka::net
