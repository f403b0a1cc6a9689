// The classic group member's decisions (classic_member.hpp): what to do next at `now`.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "asiokafka/error.hpp"
#include "consumer/sansio/classic_member.hpp"

namespace asiokafka::consumer {

namespace {
constexpr net::time_point forever = net::time_point::max();

std::int32_t to_ms(std::chrono::milliseconds d) {
  return static_cast<std::int32_t>(std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, std::numeric_limits<std::int32_t>::max()));
}
}  // namespace

member_action classic_member::next(net::time_point now) {
  if (phase_ == phase::fatal) return failed{fatal_error_};
  check_session(now);
  if (listener_ != listener::none) return heartbeat_or_wait(now);
  // Listener calls decided by the last SyncGroup, unless its generation is already gone (then
  // what is held is lost, below).
  if ((pending_revoke_ || pending_assign_) && generation_ != assignment_generation_) {
    pending_revoke_.reset();
    pending_assign_.reset();
  }
  if (pending_revoke_) {
    auto parts = std::move(*pending_revoke_);
    pending_revoke_.reset();
    return issue_revoke(std::move(parts), false);
  }
  if (pending_assign_) {
    assign a = std::move(*pending_assign_);
    pending_assign_.reset();
    assignment_ = a.assignment;
    listener_ = listener::assigning;
    return a;
  }
  if (lost_pending_) {
    lost_pending_ = false;
    if (!assignment_.empty()) return issue_revoke(assignment_, true);
  }
  if (stopping_) return next_stopping(now);
  switch (phase_) {
    case phase::stopped: return idle{};
    case phase::left_poll_timeout: return wait_until{forever};  // until polled()
    case phase::unjoined: return next_join(now);
    case phase::joining: return wait_until{forever};  // the JoinGroup answer
    case phase::leader_assigning:
      if (assignment_to_run_) {
        run_assignment run = std::move(*assignment_to_run_);
        assignment_to_run_.reset();
        return run;
      }
      return wait_until{forever};  // on_assignment_computed()
    case phase::syncing:
      if (sync_to_send_) {
        send_sync s = std::move(*sync_to_send_);
        sync_to_send_.reset();
        sync_inflight_ = true;
        return s;
      }
      return wait_until{forever};  // the SyncGroup answer
    case phase::stable: return next_stable(now);
    case phase::fatal: break;
  }
  return failed{fatal_error_};
}

member_action classic_member::next_join(net::time_point now) {
  // Eager: give everything up before joining (the revoke runs once: it empties assignment_).
  if (cfg_.protocol == rebalance_protocol::eager && !assignment_.empty()) return issue_revoke(assignment_, false);
  // An abandoned round's requests must be answered first, so that their answers can never be
  // taken for the new round's.
  if (join_inflight_ || sync_inflight_ || leave_inflight_) return wait_until{forever};
  if (now < join_retry_at_) return wait_until{join_retry_at_};
  send_join j;
  j.member_id = member_id_;
  j.group_instance_id = cfg_.group_instance_id;
  j.session_timeout_ms = to_ms(cfg_.session_timeout);
  j.rebalance_timeout_ms = to_ms(cfg_.rebalance_timeout.value_or(cfg_.max_poll_interval));
  j.reason = rejoin_reason_;
  j.owned_partitions = assignment_;
  j.owned_generation = assignment_.empty() ? -1 : assignment_generation_;
  phase_ = phase::joining;
  join_inflight_ = true;
  need_rejoin_ = false;
  leader_ = false;
  return j;
}

member_action classic_member::next_stable(net::time_point now) {
  if (need_rejoin_) return next_join(now);
  if (now >= last_poll_ + cfg_.max_poll_interval) {
    // The application stopped calling get*(): leave so the group moves on without us (static
    // members too), give the partitions up as lost, and wait for the next poll.
    std::optional<send_leave> l;
    if (!member_id_.empty() && !leave_inflight_)
      l = send_leave{member_id_, cfg_.group_instance_id, "consumer poll timeout has expired"};
    last_error_ = make_error_code(client_errc::timeout);
    reset_generation(true);
    phase_ = phase::left_poll_timeout;
    if (l) {
      leave_inflight_ = true;
      return std::move(*l);
    }
    return next(now);
  }
  return heartbeat_or_wait(now);
}

member_action classic_member::next_stopping(net::time_point now) {
  (void)now;
  if (!assignment_.empty()) return issue_revoke(assignment_, generation_ < 0);
  if (leave_to_send_) {
    send_leave l = std::move(*leave_to_send_);
    leave_to_send_.reset();
    leave_inflight_ = true;
    return l;
  }
  if (leave_inflight_) return wait_until{forever};
  stopping_ = false;
  phase_ = phase::stopped;
  need_rejoin_ = false;
  reset_generation(true);
  lost_pending_ = false;
  group_topics_.clear();
  return idle{};
}

bool classic_member::may_heartbeat() const noexcept {
  return phase_ == phase::stable && generation_ >= 0 && !member_id_.empty() && !join_inflight_ && !sync_inflight_;
}

member_action classic_member::heartbeat_or_wait(net::time_point now) {
  net::time_point wake = forever;
  if (may_heartbeat()) {
    if (!heartbeat_inflight_) {
      if (now >= next_heartbeat_at_) {
        heartbeat_inflight_ = true;
        heartbeat_generation_ = generation_;
        heartbeat_sent_at_ = now;
        next_heartbeat_at_ = now + cfg_.heartbeat_interval;
        return send_heartbeat{generation_, member_id_, cfg_.group_instance_id};
      }
      wake = next_heartbeat_at_;
    }
    if (!stopping_) wake = std::min(wake, session_start_ + cfg_.session_timeout);
  }
  if (phase_ == phase::stable && listener_ == listener::none && !stopping_ && !need_rejoin_)
    wake = std::min(wake, last_poll_ + cfg_.max_poll_interval);
  return wait_until{wake};
}

member_action classic_member::issue_revoke(std::vector<TopicPartition> parts, bool lost) {
  listener_ = listener::revoking;
  revoking_ = parts;
  return revoke{std::move(parts), lost};
}

void classic_member::check_session(net::time_point now) {
  if (phase_ != phase::stable || generation_ < 0 || stopping_) return;
  if (now < session_start_ + cfg_.session_timeout) return;
  // No heartbeat got through for a whole session: the coordinator has most likely expelled us
  // and handed our partitions to others.
  last_error_ = make_error_code(client_errc::timeout);
  reset_generation(false);
  request_rejoin("no heartbeat succeeded within the session timeout");
  join_retry_at_ = now;
}

}  // namespace asiokafka::consumer
