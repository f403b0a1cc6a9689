// The KIP-848 member's inputs (consumer_member.hpp): heartbeat answers and failures, topic
// names, the application's calls. What to do next is in consumer_member_next.cpp.
#include "consumer/sansio/consumer_member.hpp"

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

bool is_fenced(std::error_code ec) {
  return is(ec, kafka_errc::fenced_member_epoch) || is(ec, kafka_errc::unknown_member_id);
}

// Errors no retry can fix. Java treats every Kafka code it does not list as fatal too; the
// retriable ones (coordinator moved or loading, timeouts) and transport failures are retried.
bool is_fatal(std::error_code ec) {  // fencing codes are checked first
  static constexpr kafka_errc fatal_codes[] = {
      kafka_errc::unreleased_instance_id, kafka_errc::fenced_instance_id,   kafka_errc::group_authorization_failed,
      kafka_errc::unsupported_assignor,   kafka_errc::invalid_request,      kafka_errc::group_max_size_reached,
      kafka_errc::unsupported_version,    kafka_errc::invalid_regular_expression,
  };
  for (kafka_errc e : fatal_codes)
    if (is(ec, e)) return true;
  if (ec == make_error_code(client_errc::unsupported_version)) return true;
  const protocol::error_class c = protocol::classify(ec);
  if (c.authentication) return true;
  return ec.category() == kafka_category() && !c.retriable;
}

constexpr char url_base64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string make_member_id(const protocol::uuid& random_bytes) {
  protocol::uuid b = random_bytes;
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // IETF variant
  // Java draws again when the text would start with '-' (it reads as a command-line option);
  // clearing the top bit keeps the other 127 bits random and avoids it.
  if ((b[0] >> 2) == 62) b[0] = static_cast<std::uint8_t>(b[0] & 0x7f);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t byte : b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(url_base64[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(url_base64[(acc << (6 - bits)) & 0x3f]);
  return out;  // 22 characters, no padding
}

consumer_member::consumer_member(consumer_member_config cfg)
    : cfg_(std::move(cfg)), member_id_(cfg_.member_id), interval_(cfg_.heartbeat_interval) {}

member_state consumer_member::state() const noexcept {
  if (phase_ == phase::fatal) return member_state::fatal;
  if (listener_ == listener::revoking) return member_state::revoking;
  if (listener_ == listener::assigning) return member_state::assigning;
  if (stopping_) return member_state::stopping;
  switch (phase_) {
    case phase::stopped: return member_state::stopped;
    case phase::joining: return inflight_ == request::join ? member_state::joining : member_state::unjoined;
    case phase::member: return member_state::stable;
    case phase::stale: return member_state::left_poll_timeout;
    case phase::fatal: break;
  }
  return member_state::fatal;
}

classic_member_status consumer_member::status() const {
  classic_member_status s;
  s.state = state();
  s.generation = epoch_;
  s.member_id = member_id_;
  s.assignment = owned_;
  s.last_heartbeat = last_heartbeat_ok_;
  s.last_error = phase_ == phase::fatal ? fatal_error_ : last_error_;
  return s;
}

std::vector<protocol::uuid> consumer_member::unresolved_topics() const {
  std::vector<protocol::uuid> out;
  for (const auto& t : target_)
    if (!names_.contains(t.first)) out.push_back(t.first);
  return out;
}

net::clock::duration consumer_member::backoff(std::uint32_t failures) const {
  if (failures == 0) return net::clock::duration::zero();
  auto d = std::chrono::duration_cast<net::clock::duration>(cfg_.retry_backoff);
  const auto cap = std::chrono::duration_cast<net::clock::duration>(cfg_.retry_backoff_max);
  for (std::uint32_t i = 1; i < failures && d < cap; ++i) d *= 2;
  return std::max(std::min(d, cap), std::chrono::duration_cast<net::clock::duration>(cfg_.retry_backoff));
}

void consumer_member::start(group_subscription sub, net::time_point now) {
  if (phase_ != phase::stopped || stopping_) return;
  sub_ = std::move(sub);
  std::sort(sub_.topics.begin(), sub_.topics.end());
  sub_.topics.erase(std::unique(sub_.topics.begin(), sub_.topics.end()), sub_.topics.end());
  phase_ = phase::joining;
  ++incarnation_;
  epoch_ = join_epoch;
  sent_ = {};
  failures_ = 0;
  retry_at_ = now;
  last_poll_ = now;
  last_error_ = {};
  interval_ = cfg_.heartbeat_interval;
}

void consumer_member::leave(net::time_point now) {
  (void)now;
  if (phase_ == phase::fatal) {
    // No leave heartbeat after a fatal error; what is held is lost.
    phase_ = phase::stopped;
    lost_pending_ = true;
    ++incarnation_;
    return;
  }
  if (phase_ == phase::stopped || stopping_) return;
  stopping_ = true;
  pending_assign_.reset();
  reconcile_needed_ = false;
  ack_due_ = false;
  expedite_ = false;
  // After a poll timeout the leave may still be waiting to go out: keep it.
  if (phase_ != phase::stale) leave_wanted_ = in_group_;
}

void consumer_member::polled(net::time_point now) {
  last_poll_ = now;
  if (phase_ == phase::stale && !stopping_) {
    phase_ = phase::joining;
    retry_at_ = now;
  }
}

void consumer_member::subscription_changed(group_subscription sub, net::time_point now) {
  (void)now;
  std::sort(sub.topics.begin(), sub.topics.end());
  sub.topics.erase(std::unique(sub.topics.begin(), sub.topics.end()), sub.topics.end());
  if (sub == sub_) return;
  sub_ = std::move(sub);
  // While a join is in flight, right after its answer.
  if ((phase_ == phase::member || phase_ == phase::joining) && !stopping_) expedite_ = true;
}

void consumer_member::coordinator_unknown(net::time_point now) {
  last_error_ = make_error_code(kafka_errc::coordinator_not_available);
  retry_at_ = std::max(retry_at_, now + cfg_.retry_backoff);
}

void consumer_member::on_heartbeat_response(const protocol::messages::ConsumerGroupHeartbeatResponse& resp,
                                            net::time_point now) {
  if (inflight_ == request::none) return;
  const request kind = inflight_;
  inflight_ = request::none;
  const std::error_code ec = kafka_code(resp.error_code);
  if (kind == request::leave) {
    if (ec) last_error_ = ec;
    return;
  }
  if (inflight_incarnation_ != incarnation_) return;  // sent before a fence, poll timeout or stop
  if (ec) heartbeat_failed(ec, now);
  else heartbeat_succeeded(kind, resp, now);
}

void consumer_member::on_request_failed(std::error_code ec, net::time_point now) {
  if (inflight_ == request::none) return;
  const request kind = inflight_;
  inflight_ = request::none;
  if (kind == request::leave) {
    last_error_ = ec;
    return;
  }
  if (inflight_incarnation_ != incarnation_) return;
  heartbeat_failed(ec, now);
}

void consumer_member::heartbeat_succeeded(request kind,
                                          const protocol::messages::ConsumerGroupHeartbeatResponse& resp,
                                          net::time_point now) {
  failures_ = 0;
  last_heartbeat_ok_ = now;
  session_start_ = now;
  if (resp.heartbeat_interval_ms > 0) interval_ = std::chrono::milliseconds(resp.heartbeat_interval_ms);
  if (resp.member_id && !resp.member_id->empty()) member_id_ = *resp.member_id;
  if (resp.member_epoch > 0) epoch_ = resp.member_epoch;
  if (removing_regex_) regex_at_broker_ = false;
  if (phase_ == phase::fatal) return;
  if (kind == request::join && phase_ == phase::joining) phase_ = phase::member;
  if (phase_ == phase::member && !stopping_ && resp.assignment) set_target(*resp.assignment, now);
}

void consumer_member::set_target(const protocol::messages::ConsumerGroupHeartbeatResponse::Assignment& a,
                                 net::time_point now) {
  id_assignment fresh;
  for (const auto& t : a.topic_partitions) {
    auto& parts = fresh[t.topic_id];
    parts.insert(parts.end(), t.partitions.begin(), t.partitions.end());
  }
  for (auto& [id, parts] : fresh) {
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  }
  // A topic left with no partitions is no topic at all.
  std::erase_if(fresh, [](const auto& e) { return e.second.empty(); });
  if (target_valid_ && fresh == target_) return;
  const auto unresolved_before = unresolved_topics();
  target_ = std::move(fresh);
  target_valid_ = true;
  reconcile_needed_ = true;
  // Names are kept for the ids we own or are asked to own, no others.
  std::erase_if(names_, [&](const auto& e) { return !target_.contains(e.first) && !current_.contains(e.first); });
  if (unresolved_topics() != unresolved_before) {
    resolve_failures_ = 0;
    resolve_at_ = now;
  }
}

void consumer_member::heartbeat_failed(std::error_code ec, net::time_point now) {
  last_error_ = ec;
  ++failures_;
  sent_.valid = false;  // the fields it carried may not have arrived: send them all again
  if (phase_ == phase::fatal) return;
  if (stopping_) {
    // Leaving anyway: a fenced member has nothing left to leave, a fatal one cannot.
    if (is_fenced(ec) || is_fatal(ec)) {
      leave_wanted_ = false;
      in_group_ = false;
      epoch_ = join_epoch;
    }
    return;
  }
  if (is_fenced(ec)) {
    fence(now);
  } else if (is_fatal(ec)) {
    make_fatal(ec);
  } else {
    retry_at_ = std::max(retry_at_, now + backoff(failures_));
  }
}

void consumer_member::drop_membership() {
  epoch_ = join_epoch;
  in_group_ = false;
  ++incarnation_;
  lost_pending_ = true;  // what is owned once a running listener ends
  current_.clear();
  current_valid_ = false;
  ++current_version_;
  target_.clear();
  target_valid_ = false;
  reconcile_needed_ = false;
  pending_assign_.reset();
  ack_due_ = false;
  expedite_ = false;
  sent_ = {};  // a lookup in progress stays so until answered: one at a time
}

void consumer_member::fence(net::time_point now) {
  drop_membership();
  phase_ = phase::joining;
  // Rejoining is the normal answer once; in a row it backs off so a broker cannot make us spin.
  retry_at_ = now + backoff(failures_ > 0 ? failures_ - 1 : 0);
}

void consumer_member::make_fatal(std::error_code ec) {
  phase_ = phase::fatal;
  fatal_error_ = ec;
  last_error_ = ec;
  pending_assign_.reset();
  reconcile_needed_ = false;
  ack_due_ = false;
  expedite_ = false;
  leave_wanted_ = false;
}

void consumer_member::topics_resolved(const std::map<protocol::uuid, std::string>& names, net::time_point now) {
  bool learned = false;
  for (const auto& [id, name] : names) {
    // Names given before the assignment names them are kept too (pruned when a target comes).
    if (name.empty() || !names_.emplace(id, name).second) continue;
    if (target_.contains(id)) learned = true;
  }
  if (learned && phase_ == phase::member && !stopping_) reconcile_needed_ = true;
  if (!resolve_outstanding_) return;
  resolve_outstanding_ = false;
  if (unresolved_topics().empty()) {
    resolve_failures_ = 0;
  } else {
    ++resolve_failures_;
    resolve_at_ = now + backoff(resolve_failures_);
  }
}

void consumer_member::revocation_done(net::time_point now) {
  (void)now;
  if (listener_ != listener::revoking) return;
  listener_ = listener::none;
  std::vector<TopicPartition> rest;
  std::set_difference(owned_.begin(), owned_.end(), revoking_.begin(), revoking_.end(), std::back_inserter(rest));
  owned_ = std::move(rest);
  revoking_.clear();
}

void consumer_member::assignment_done(net::time_point now) {
  (void)now;
  if (listener_ != listener::assigning) return;
  listener_ = listener::none;
  if (reconcile_incarnation_ != incarnation_ || phase_ != phase::member || stopping_) return;
  // The reconciliation is complete: report what we own now, at once.
  current_ = std::move(reconciling_);
  reconciling_.clear();
  current_valid_ = true;
  ++current_version_;
  ack_due_ = true;
}

}  // namespace asiokafka::consumer
