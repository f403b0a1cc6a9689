// The classic group member's inputs (classic_member.hpp): responses, failures, the
// application's calls. What to do next is in classic_member_next.cpp.
#include "consumer/sansio/classic_member.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::consumer {

namespace {

std::error_code kafka_code(std::int16_t code) {
  return code == 0 ? std::error_code{} : make_error_code(static_cast<kafka_errc>(code));
}

bool is(std::error_code ec, kafka_errc e) { return ec == make_error_code(e); }

// Errors no retry can fix: the member stops until leave().
bool is_fatal(std::error_code ec) {
  static constexpr kafka_errc fatal_codes[] = {
      kafka_errc::fenced_instance_id,          kafka_errc::group_authorization_failed,
      kafka_errc::invalid_session_timeout,     kafka_errc::invalid_group_id,
      kafka_errc::unsupported_version,         kafka_errc::inconsistent_group_protocol,
      kafka_errc::group_max_size_reached,
  };
  for (kafka_errc e : fatal_codes)
    if (is(ec, e)) return true;
  return ec == make_error_code(client_errc::unsupported_version) || protocol::classify(ec).authentication;
}

std::vector<TopicPartition> minus(const std::vector<TopicPartition>& a, const std::vector<TopicPartition>& b) {
  std::vector<TopicPartition> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

classic_member::classic_member(classic_member_config cfg) : cfg_(std::move(cfg)) {}

member_state classic_member::state() const noexcept {
  if (phase_ == phase::fatal) return member_state::fatal;
  if (listener_ == listener::revoking) return member_state::revoking;
  if (listener_ == listener::assigning) return member_state::assigning;
  if (stopping_) return member_state::stopping;
  switch (phase_) {
    case phase::stopped: return member_state::stopped;
    case phase::unjoined: return member_state::unjoined;
    case phase::joining: return member_state::joining;
    case phase::leader_assigning: return member_state::leader_assigning;
    case phase::syncing: return member_state::syncing;
    case phase::stable: return member_state::stable;
    case phase::left_poll_timeout: return member_state::left_poll_timeout;
    case phase::fatal: break;
  }
  return member_state::fatal;
}

classic_member_status classic_member::status() const {
  classic_member_status s;
  s.state = state();
  s.generation = generation_;
  s.member_id = member_id_;
  s.leader = leader_;
  s.assignment = assignment_;
  s.last_heartbeat = last_heartbeat_ok_;
  s.last_error = phase_ == phase::fatal ? fatal_error_ : last_error_;
  return s;
}

net::clock::duration classic_member::backoff(std::uint32_t failures) const {
  if (failures == 0) return net::clock::duration::zero();
  auto d = std::chrono::duration_cast<net::clock::duration>(cfg_.retry_backoff);
  const auto cap = std::chrono::duration_cast<net::clock::duration>(cfg_.retry_backoff_max);
  for (std::uint32_t i = 1; i < failures && d < cap; ++i) d *= 2;
  return std::max(std::min(d, cap), std::chrono::duration_cast<net::clock::duration>(cfg_.retry_backoff));
}

void classic_member::start(net::time_point now) {
  if (phase_ != phase::stopped || stopping_) return;
  phase_ = phase::unjoined;
  request_rejoin("joining the group");
  last_poll_ = now;
  join_failures_ = 0;
  join_retry_at_ = now;
  last_error_ = {};
}

void classic_member::leave(net::time_point now) {
  (void)now;
  if (phase_ == phase::fatal) {
    // No LeaveGroup after a fatal error; what is held is lost.
    phase_ = phase::stopped;
    lost_pending_ = !assignment_.empty();
    return;
  }
  if ((phase_ == phase::stopped) || stopping_) return;
  stopping_ = true;
  need_rejoin_ = false;
  // A pending join or sync is abandoned: its answer is dropped when it comes.
  assignment_to_run_.reset();
  sync_to_send_.reset();
  pending_revoke_.reset();
  pending_assign_.reset();
  if (!cfg_.group_instance_id && !member_id_.empty() && phase_ != phase::left_poll_timeout && !leave_inflight_)
    leave_to_send_ = send_leave{member_id_, std::nullopt, "the consumer is being closed"};
  if (phase_ == phase::joining || phase_ == phase::leader_assigning || phase_ == phase::syncing)
    phase_ = phase::unjoined;
}

void classic_member::polled(net::time_point now) {
  last_poll_ = now;
  if (phase_ == phase::left_poll_timeout && !stopping_) {
    phase_ = phase::unjoined;
    request_rejoin("rejoining after the poll timeout");
  }
}

void classic_member::subscription_changed(net::time_point now) {
  (void)now;
  if (stopping_ || phase_ == phase::stopped || phase_ == phase::left_poll_timeout || phase_ == phase::fatal) return;
  request_rejoin("the subscription changed");
}

void classic_member::group_metadata_changed(net::time_point now) {
  if (leader_) subscription_changed(now);
}

void classic_member::coordinator_unknown(net::time_point now) {
  last_error_ = make_error_code(kafka_errc::coordinator_not_available);
  const auto hold = now + cfg_.retry_backoff;
  join_retry_at_ = std::max(join_retry_at_, hold);
  next_heartbeat_at_ = std::max(next_heartbeat_at_, hold);
}

void classic_member::request_rejoin(std::string reason) {
  if (!need_rejoin_) rejoin_reason_ = std::move(reason);
  need_rejoin_ = true;
}

void classic_member::reset_generation(bool reset_member_id) {
  generation_ = -1;
  leader_ = false;
  if (reset_member_id) member_id_.clear();
  // Whatever is held belongs to a generation the group no longer knows: lost (no commit).
  if (!assignment_.empty()) lost_pending_ = true;
}

void classic_member::make_fatal(std::error_code ec) {
  phase_ = phase::fatal;
  fatal_error_ = ec;
  last_error_ = ec;
  need_rejoin_ = false;
  assignment_to_run_.reset();
  sync_to_send_.reset();
}

void classic_member::on_join_response(const protocol::messages::JoinGroupResponse& resp, net::time_point now) {
  if (!join_inflight_) return;
  join_inflight_ = false;
  if (phase_ != phase::joining || stopping_) return;  // abandoned by leave()
  const std::error_code ec = kafka_code(resp.error_code);
  if (is(ec, kafka_errc::member_id_required)) {
    // KIP-394: the coordinator names us; join again at once with that id.
    member_id_ = resp.member_id;
    last_error_ = ec;
    phase_ = phase::unjoined;
    request_rejoin("need to re-join with the given member id");
    join_retry_at_ = now;
    return;
  }
  if (ec) {
    join_round_failed(ec, now);
    return;
  }
  generation_ = resp.generation_id;
  member_id_ = resp.member_id;
  protocol_name_ = resp.protocol_name.value_or("");
  leader_ = !resp.leader.empty() && resp.leader == member_id_;
  session_start_ = now;
  sync_to_send_.reset();
  assignment_to_run_.reset();
  if (leader_) {
    run_assignment run{protocol_name_, {}};
    std::set<std::string> topics;
    for (const auto& m : resp.members) {
      member_subscription s;
      s.member_id = m.member_id;
      s.group_instance_id = m.group_instance_id;
      if (auto bad = decode_subscription(m.metadata, s)) last_error_ = bad;  // kept with no topics
      topics.insert(s.topics.begin(), s.topics.end());
      run.members.push_back(std::move(s));
    }
    group_topics_.assign(topics.begin(), topics.end());
    if (!resp.skip_assignment) {
      // KIP-814: a static leader that rejoined without changes must not reassign.
      assignment_to_run_ = std::move(run);
      phase_ = phase::leader_assigning;
      return;
    }
  } else {
    group_topics_.clear();
  }
  sync_to_send_ = send_sync{generation_, member_id_, cfg_.group_instance_id, "consumer", protocol_name_, {}};
  phase_ = phase::syncing;
}

void classic_member::on_assignment_computed(const std::map<std::string, member_assignment>& assignments,
                                            net::time_point now) {
  (void)now;
  if (phase_ != phase::leader_assigning || stopping_ || assignment_to_run_) return;
  send_sync sync{generation_, member_id_, cfg_.group_instance_id, "consumer", protocol_name_, {}};
  for (const auto& [member, a] : assignments) {
    std::vector<std::uint8_t> bytes;
    if (auto ec = encode_assignment(a, bytes)) {
      make_fatal(ec);
      return;
    }
    sync.assignments.emplace_back(member, std::move(bytes));
  }
  sync_to_send_ = std::move(sync);
  phase_ = phase::syncing;
}

void classic_member::on_sync_response(const protocol::messages::SyncGroupResponse& resp, net::time_point now) {
  if (!sync_inflight_) return;
  sync_inflight_ = false;
  if (phase_ != phase::syncing || stopping_) return;
  const std::error_code ec = kafka_code(resp.error_code);
  if (ec) {
    join_round_failed(ec, now);
    return;
  }
  if (resp.protocol_name && *resp.protocol_name != protocol_name_) {
    make_fatal(make_error_code(kafka_errc::inconsistent_group_protocol));
    return;
  }
  member_assignment got;
  if (auto bad = decode_assignment(resp.assignment, got)) {
    join_round_failed(bad, now);
    return;
  }
  join_failures_ = 0;
  heartbeat_failures_ = 0;
  phase_ = phase::stable;
  session_start_ = now;
  next_heartbeat_at_ = now + cfg_.heartbeat_interval;
  std::vector<TopicPartition> fresh = std::move(got.partitions);
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  auto revoked = minus(assignment_, fresh);
  auto added = minus(fresh, assignment_);
  if (!revoked.empty()) {
    pending_revoke_ = std::move(revoked);
    // KIP-429: what we gave up goes to its new owner in a second round.
    if (cfg_.protocol == rebalance_protocol::cooperative) request_rejoin("partitions revoked (cooperative)");
  }
  pending_assign_ = assign{std::move(added), fresh};
  assignment_generation_ = generation_;
}

void classic_member::on_heartbeat_response(const protocol::messages::HeartbeatResponse& resp, net::time_point now) {
  if (!heartbeat_inflight_) return;
  heartbeat_inflight_ = false;
  const std::error_code ec = kafka_code(resp.error_code);
  if (!ec) {
    if (heartbeat_generation_ == generation_) {
      heartbeat_failures_ = 0;
      last_heartbeat_ok_ = now;
      session_start_ = now;
    }
    next_heartbeat_at_ = heartbeat_sent_at_ + cfg_.heartbeat_interval;
    return;
  }
  heartbeat_failed(ec, now);
}

void classic_member::heartbeat_failed(std::error_code ec, net::time_point now) {
  last_error_ = ec;
  // An answer for an older generation, or one overtaken by a rebalance, says nothing now.
  if (heartbeat_generation_ != generation_ || generation_ < 0 || join_inflight_ || phase_ != phase::stable ||
      stopping_)
    return;
  if (is_fatal(ec)) {
    make_fatal(ec);
  } else if (is(ec, kafka_errc::rebalance_in_progress)) {
    request_rejoin("the group is rebalancing");
    next_heartbeat_at_ = heartbeat_sent_at_ + cfg_.heartbeat_interval;
  } else if (is(ec, kafka_errc::unknown_member_id) || is(ec, kafka_errc::illegal_generation)) {
    reset_generation(is(ec, kafka_errc::unknown_member_id));
    request_rejoin("the heartbeat found the generation gone");
    join_failures_ = 0;
    join_retry_at_ = now;
  } else {
    ++heartbeat_failures_;
    next_heartbeat_at_ = now + backoff(heartbeat_failures_);
  }
}

void classic_member::join_round_failed(std::error_code ec, net::time_point now) {
  last_error_ = ec;
  if (is_fatal(ec)) {
    make_fatal(ec);
    return;
  }
  ++join_failures_;
  const bool group_said_rejoin = is(ec, kafka_errc::rebalance_in_progress) ||
                                 is(ec, kafka_errc::unknown_member_id) || is(ec, kafka_errc::illegal_generation);
  if (is(ec, kafka_errc::unknown_member_id) || is(ec, kafka_errc::illegal_generation))
    reset_generation(is(ec, kafka_errc::unknown_member_id));
  phase_ = phase::unjoined;
  leader_ = false;
  assignment_to_run_.reset();
  sync_to_send_.reset();
  request_rejoin(group_said_rejoin ? "the coordinator asked to rejoin" : "retrying after a failed join");
  // The coordinator asking us to rejoin is normal once; in a row it is backed off as failures.
  const std::uint32_t n = group_said_rejoin ? join_failures_ - 1 : join_failures_;
  join_retry_at_ = std::max(join_retry_at_, now + backoff(n));
}

void classic_member::on_leave_response(const protocol::messages::LeaveGroupResponse& resp, net::time_point now) {
  (void)now;
  if (!leave_inflight_) return;
  std::error_code ec = kafka_code(resp.error_code);
  for (const auto& m : resp.members)
    if (!ec && m.error_code != 0) ec = kafka_code(m.error_code);
  leave_finished(ec);
}

void classic_member::leave_finished(std::error_code ec) {
  leave_inflight_ = false;
  if (ec) last_error_ = ec;
}

void classic_member::on_request_failed(group_request which, std::error_code ec, net::time_point now) {
  switch (which) {
    case group_request::join:
      if (!join_inflight_) return;
      join_inflight_ = false;
      if (phase_ == phase::joining && !stopping_) join_round_failed(ec, now);
      return;
    case group_request::sync:
      if (!sync_inflight_) return;
      sync_inflight_ = false;
      if (phase_ == phase::syncing && !stopping_) join_round_failed(ec, now);
      return;
    case group_request::heartbeat:
      if (!heartbeat_inflight_) return;
      heartbeat_inflight_ = false;
      heartbeat_failed(ec, now);
      return;
    case group_request::leave:
      if (leave_inflight_) leave_finished(ec);
      return;
  }
}

void classic_member::revocation_done(net::time_point now) {
  (void)now;
  if (listener_ != listener::revoking) return;
  listener_ = listener::none;
  assignment_ = minus(assignment_, revoking_);
  revoking_.clear();
}

void classic_member::assignment_done(net::time_point now) {
  (void)now;
  if (listener_ == listener::assigning) listener_ = listener::none;
}

}  // namespace asiokafka::consumer
