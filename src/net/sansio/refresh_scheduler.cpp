#include "net/sansio/refresh_scheduler.hpp"

#include <algorithm>
#include <utility>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"

namespace asiokafka::net {

namespace {

enum class topic_state { ready, waiting, failed };

// Whether a topic can be routed to in full; `ec` gets a final error.
topic_state state_of(const metadata_cache& cache, const std::string& name, std::error_code& ec) {
  const TopicMetadata* t = cache.topic(name);
  if (t == nullptr) return topic_state::waiting;  // unknown: auto-creation may be under way
  if (t->error && !is_retriable(t->error) && t->partitions.empty()) {
    ec = t->error;
    return topic_state::failed;
  }
  if (t->partitions.empty()) return topic_state::waiting;  // leader_not_available on creation
  for (const auto& p : t->partitions) {
    if (cache.leader_for(name, p.partition).status != leader_status::ok) return topic_state::waiting;
  }
  return topic_state::ready;
}

}  // namespace

protocol::messages::MetadataRequest make_metadata_request(const metadata_scope& scope,
                                                          bool allow_auto_topic_creation) {
  protocol::messages::MetadataRequest r;
  r.allow_auto_topic_creation = allow_auto_topic_creation;
  if (scope.all_topics) {
    r.topics = std::nullopt;
  } else {
    r.topics.emplace();
    r.topics->reserve(scope.topics.size());
    for (const auto& name : scope.topics) {
      protocol::messages::MetadataRequest::MetadataRequestTopic t;
      t.name = name;
      r.topics->push_back(std::move(t));
    }
  }
  return r;
}

refresh_scheduler::refresh_scheduler(const refresh_config& cfg) : cfg_(cfg) {}

waiter_id refresh_scheduler::ask(refresh_ask a) {
  waiter w{next_id_++, 0, std::move(a)};
  const bool covered =
      in_flight_ && (in_flight_->scope.all_topics ||
                     std::ranges::all_of(w.ask.topics, [&](const std::string& t) {
                       return std::ranges::find(in_flight_->scope.topics, t) !=
                              in_flight_->scope.topics.end();
                     }));
  if (covered) {
    w.generation = in_flight_->generation;
  } else {
    defer_to_next(w);
  }
  waiters_.push_back(std::move(w));
  return waiters_.back().id;
}

void refresh_scheduler::defer_to_next(waiter& w) {
  w.generation = next_generation_;
  pending_ = true;
  pending_topics_.insert(w.ask.topics.begin(), w.ask.topics.end());
}

bool refresh_scheduler::wanted(time_point now, const metadata_cache& cache) const {
  if (pending_ || cache.needs_refresh(now)) return true;
  const std::optional<time_point> missing = missing_due();
  return missing && now >= *missing;
}

std::optional<time_point> refresh_scheduler::missing_due() const {
  if (missing_rounds_ == 0 || !last_end_) return std::nullopt;
  // retry_backoff, 2x, 4x, ... up to the cap (the shift is bounded so it cannot overflow).
  const auto base = cfg_.retry_backoff.count() > 0 ? cfg_.retry_backoff : std::chrono::milliseconds(1);
  const std::uint32_t doublings = std::min<std::uint32_t>(missing_rounds_ - 1, 20);
  const auto delay = std::min(base * (std::int64_t{1} << doublings),
                              std::max(cfg_.missing_topic_backoff_max, cfg_.retry_backoff));
  return *last_end_ + delay;
}

void refresh_scheduler::count_missing(const metadata_cache& cache) {
  const bool missing = std::ranges::any_of(tracked_, [&](const std::string& t) { return cache.topic(t) == nullptr; });
  missing_rounds_ = missing ? missing_rounds_ + 1 : 0;
}

std::optional<refresh_plan> refresh_scheduler::poll(time_point now, const metadata_cache& cache) {
  if (in_flight_ || !wanted(now, cache)) return std::nullopt;
  if (last_end_ && now < *last_end_ + cfg_.retry_backoff) return std::nullopt;

  refresh_plan plan;
  plan.generation = next_generation_++;
  plan.scope.all_topics = cfg_.all_topics;
  if (!cfg_.all_topics) {
    std::set<std::string> topics(pending_topics_.begin(), pending_topics_.end());
    topics.insert(tracked_.begin(), tracked_.end());
    for (auto& name : cache.topic_names()) topics.insert(std::move(name));
    plan.scope.topics.assign(topics.begin(), topics.end());
  }
  pending_ = false;
  pending_topics_.clear();
  in_flight_ = plan;
  return plan;
}

apply_result refresh_scheduler::on_response(refresh_generation gen,
                                            const protocol::messages::MetadataResponse& r,
                                            metadata_cache& cache, time_point now) {
  if (!in_flight_ || in_flight_->generation != gen) return {};
  apply_result result = cache.apply(r, now, in_flight_->scope);
  in_flight_.reset();
  last_end_ = now;
  count_missing(cache);

  std::erase_if(waiters_, [&](waiter& w) {
    if (w.generation != gen) return false;
    if (!w.ask.wait_for_leaders) {
      complete(w.id, {});
      return true;
    }
    bool waiting = false;
    for (const auto& name : w.ask.topics) {
      std::error_code ec;
      switch (state_of(cache, name, ec)) {
        case topic_state::failed:
          complete(w.id, ec);
          return true;
        case topic_state::waiting:
          waiting = true;
          break;
        case topic_state::ready:
          break;
      }
    }
    if (!waiting) {
      complete(w.id, {});
      return true;
    }
    if (now >= w.ask.deadline) {
      complete(w.id, make_error_code(client_errc::timeout));
      return true;
    }
    defer_to_next(w);
    return false;
  });
  return result;
}

void refresh_scheduler::on_failure(refresh_generation gen, std::error_code ec, time_point now) {
  if (!in_flight_ || in_flight_->generation != gen) return;
  in_flight_.reset();
  last_end_ = now;
  std::erase_if(waiters_, [&](waiter& w) {
    if (w.generation != gen) return false;
    if (!w.ask.wait_for_leaders || now >= w.ask.deadline) {
      complete(w.id, w.ask.wait_for_leaders ? make_error_code(client_errc::timeout) : ec);
      return true;
    }
    defer_to_next(w);
    return false;
  });
}

void refresh_scheduler::expire(time_point now) {
  std::erase_if(waiters_, [&](const waiter& w) {
    if (now < w.ask.deadline) return false;
    complete(w.id, make_error_code(client_errc::timeout));
    return true;
  });
}

bool refresh_scheduler::cancel(waiter_id id) {
  auto it = std::ranges::find(waiters_, id, &waiter::id);
  if (it == waiters_.end()) return false;
  complete(id, make_error_code(std::errc::operation_canceled));
  waiters_.erase(it);
  return true;
}

std::optional<time_point> refresh_scheduler::next_wakeup(const metadata_cache& cache) const {
  std::optional<time_point> at;
  auto earliest = [&](time_point t) {
    if (!at || t < *at) at = t;
  };
  for (const auto& w : waiters_) {
    if (w.ask.deadline != time_point::max()) earliest(w.ask.deadline);
  }
  if (!in_flight_) {
    time_point t = pending_ ? time_point::min() : cache.refresh_due();
    if (const auto missing = missing_due(); missing && !pending_) t = std::min(t, *missing);
    if (last_end_) t = std::max(t, *last_end_ + cfg_.retry_backoff);
    earliest(t);
  }
  return at;
}

std::optional<refresh_done> refresh_scheduler::next_completion() {
  if (done_.empty()) return std::nullopt;
  refresh_done d = done_.front();
  done_.pop_front();
  return d;
}

}  // namespace asiokafka::net
