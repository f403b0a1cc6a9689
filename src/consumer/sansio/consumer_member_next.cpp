// The KIP-848 member's decisions (consumer_member.hpp): what to do next at `now`.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <utility>

#include "asiokafka/error.hpp"
#include "consumer/sansio/consumer_member.hpp"

namespace asiokafka::consumer {

namespace {
constexpr net::time_point forever = net::time_point::max();

std::int32_t to_ms(std::chrono::milliseconds d) {
  return static_cast<std::int32_t>(
      std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, std::numeric_limits<std::int32_t>::max()));
}
}  // namespace

consumer_member_action consumer_member::next(net::time_point now) {
  if (phase_ == phase::fatal) return failed{fatal_error_};
  check_session(now);
  check_poll(now);
  // After a poll timeout the leave goes out first, so that the group moves on at once.
  if (phase_ == phase::stale && leave_wanted_ && inflight_ == request::none)
    return make_heartbeat(request::leave, now);
  // Names are looked up whenever the target has unknown ids, even while a listener runs.
  if (resolve_due(now)) {
    resolve_outstanding_ = true;
    return resolve_topics{unresolved_topics()};
  }
  if (listener_ != listener::none) return heartbeat_or_wait(now);
  if (pending_assign_) return issue_assign();
  if (lost_pending_) {
    lost_pending_ = false;
    if (!owned_.empty()) return issue_revoke(owned_, true);
  }
  if (stopping_) return next_stopping(now);
  switch (phase_) {
    case phase::stopped: return idle{};
    case phase::stale: return wait_until{forever};  // until polled()
    case phase::joining: return next_join(now);
    case phase::member: return next_member(now);
    case phase::fatal: break;
  }
  return failed{fatal_error_};
}

consumer_member_action consumer_member::next_join(net::time_point now) {
  // An older heartbeat (a leave, or one overtaken by a fence) is answered first, so that its
  // answer can never be taken for the join's.
  if (inflight_ != request::none) return wait_for(forever);
  if (!owned_.empty()) return issue_revoke(owned_, true);  // a join never owns anything
  if (now < retry_at_) return wait_for(retry_at_);
  return make_heartbeat(request::join, now);
}

bool consumer_member::resolve_due(net::time_point now) const {
  return phase_ == phase::member && !stopping_ && !resolve_outstanding_ && now >= resolve_at_ &&
         !unresolved_topics().empty();
}

consumer_member_action consumer_member::next_member(net::time_point now) {
  // One reconciliation at a time, the next one after the acknowledgement of the last.
  if (reconcile_needed_ && !ack_due_ && !resolve_outstanding_)
    if (auto a = reconcile()) return std::move(*a);
  return heartbeat_or_wait(now);
}

consumer_member_action consumer_member::next_stopping(net::time_point now) {
  if (!owned_.empty()) return issue_revoke(owned_, !in_group_ || epoch_ <= 0);
  if (inflight_ != request::none) return wait_until{forever};
  if (leave_wanted_) return make_heartbeat(request::leave, now);
  drop_membership();
  lost_pending_ = false;
  names_.clear();
  stopping_ = false;
  phase_ = phase::stopped;
  return idle{};
}

consumer_member_action consumer_member::heartbeat_or_wait(net::time_point now) {
  if (phase_ != phase::member || epoch_ <= 0 || inflight_ != request::none) return wait_for(forever);
  // At once to acknowledge a reconciliation or announce a new subscription, right after the
  // backoff following a failure, otherwise every heartbeat interval.
  net::time_point due = retry_at_;
  if (!ack_due_ && !expedite_ && failures_ == 0) due = std::max(due, sent_at_ + interval_);
  if (now >= due) return make_heartbeat(request::regular, now);
  return wait_for(due);
}

consumer_member_action consumer_member::wait_for(net::time_point when) const {
  net::time_point w = when;
  if (phase_ == phase::member && epoch_ > 0 && !stopping_) w = std::min(w, session_start_ + cfg_.session_timeout);
  if ((phase_ == phase::member || phase_ == phase::joining) && listener_ == listener::none && !stopping_)
    w = std::min(w, last_poll_ + cfg_.max_poll_interval);
  if (phase_ == phase::member && !stopping_ && !resolve_outstanding_ && !unresolved_topics().empty())
    w = std::min(w, resolve_at_);  // resolve_due() then
  return wait_until{w};
}

std::optional<consumer_member_action> consumer_member::reconcile() {
  reconcile_needed_ = false;
  id_assignment resolved;
  std::vector<TopicPartition> wanted;
  for (const auto& [id, parts] : target_) {
    const auto name = names_.find(id);
    if (name == names_.end()) continue;  // waits for its name
    resolved.emplace(id, parts);
    for (std::int32_t p : parts) wanted.emplace_back(name->second, p);
  }
  std::sort(wanted.begin(), wanted.end());
  if (current_valid_ && resolved == current_) return std::nullopt;
  std::vector<TopicPartition> revoked, added;
  std::set_difference(owned_.begin(), owned_.end(), wanted.begin(), wanted.end(), std::back_inserter(revoked));
  std::set_difference(wanted.begin(), wanted.end(), owned_.begin(), owned_.end(), std::back_inserter(added));
  pending_assign_ = assign{std::move(added), std::move(wanted)};
  reconciling_ = std::move(resolved);
  reconcile_incarnation_ = incarnation_;
  if (!revoked.empty()) return issue_revoke(std::move(revoked), false);
  return issue_assign();
}

consumer_member_action consumer_member::issue_revoke(std::vector<TopicPartition> parts, bool lost) {
  listener_ = listener::revoking;
  revoking_ = parts;
  return revoke{std::move(parts), lost};
}

consumer_member_action consumer_member::issue_assign() {
  assign a = std::move(*pending_assign_);
  pending_assign_.reset();
  owned_ = a.assignment;
  listener_ = listener::assigning;
  return a;
}

send_consumer_heartbeat consumer_member::make_heartbeat(request kind, net::time_point now) {
  send_consumer_heartbeat h;
  h.group_id = cfg_.group_id;
  h.member_id = member_id_;
  h.instance_id = cfg_.group_instance_id;
  inflight_ = kind;
  inflight_incarnation_ = incarnation_;
  sent_at_ = now;
  if (kind == request::leave) {
    h.member_epoch = cfg_.group_instance_id ? static_leave_epoch : leave_epoch;
    leave_wanted_ = false;
    sent_ = {};
    return h;
  }
  const bool full = kind == request::join || !sent_.valid;
  h.member_epoch = kind == request::join ? join_epoch : epoch_;
  h.full = full;
  if (kind == request::join) regex_at_broker_ = false;
  if (full) {
    h.rack_id = cfg_.rack_id;
    h.rebalance_timeout_ms = to_ms(cfg_.rebalance_timeout.value_or(cfg_.max_poll_interval));
    h.server_assignor = cfg_.server_assignor;
    h.subscribed_topic_names = sub_.topics;
    // A regex the broker may still hold from before the failure is removed explicitly.
    if (sub_.regex) h.subscribed_topic_regex = sub_.regex;
    else if (regex_at_broker_) h.subscribed_topic_regex = "";
  } else {
    if (sub_.topics != sent_.topics) h.subscribed_topic_names = sub_.topics;
    if (sub_.regex != sent_.regex) h.subscribed_topic_regex = sub_.regex.value_or("");
  }
  if (full || current_version_ != sent_.owned_version) {
    std::vector<topic_id_partitions> owned;
    for (const auto& [id, parts] : current_) owned.push_back(topic_id_partitions{id, parts});
    h.topic_partitions = std::move(owned);  // [] on a join: the broker requires it
  }
  // A removal counts once answered; until then a full heartbeat removes it again.
  removing_regex_ = h.subscribed_topic_regex && h.subscribed_topic_regex->empty();
  if (h.subscribed_topic_regex && !removing_regex_) regex_at_broker_ = true;
  sent_ = sent_fields{true, sub_.topics, sub_.regex, current_version_};
  if (kind == request::join) in_group_ = true;
  ack_due_ = false;
  expedite_ = false;
  return h;
}

void consumer_member::check_session(net::time_point now) {
  if (phase_ != phase::member || epoch_ <= 0 || stopping_) return;
  if (now < session_start_ + cfg_.session_timeout) return;
  // No heartbeat got through for a whole session: the coordinator has expelled us and handed
  // our partitions to others.
  last_error_ = make_error_code(client_errc::timeout);
  drop_membership();
  phase_ = phase::joining;
  retry_at_ = std::max(retry_at_, now);
}

void consumer_member::check_poll(net::time_point now) {
  if ((phase_ != phase::member && phase_ != phase::joining) || listener_ != listener::none || stopping_) return;
  if (now < last_poll_ + cfg_.max_poll_interval) return;
  // The application stopped calling get*(): leave so that the group moves on without us, give
  // the partitions up as lost, and wait for the next poll.
  last_error_ = make_error_code(client_errc::timeout);
  leave_wanted_ = in_group_;
  drop_membership();
  phase_ = phase::stale;
}

}  // namespace asiokafka::consumer
