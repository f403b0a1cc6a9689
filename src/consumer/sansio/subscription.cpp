#include "consumer/sansio/subscription.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace asiokafka::consumer {

void subscription::assign(std::span<const TopicPartition> partitions) {
  map_type next;
  for (const TopicPartition& tp : partitions) {
    if (next.contains(tp)) continue;
    auto old = parts_.find(tp);
    if (old != parts_.end()) {
      next.insert(parts_.extract(old));
    } else {
      next.try_emplace(tp);
    }
  }
  // What is left in parts_ is revoked: its buffered bytes leave the budget with it.
  for (auto& [tp, s] : parts_) buffered_bytes_ -= s.buffered_bytes;
  parts_ = std::move(next);
}

std::vector<TopicPartition> subscription::assignment() const {
  std::vector<TopicPartition> out;
  out.reserve(parts_.size());
  for (const auto& [tp, s] : parts_) out.push_back(tp);
  return out;
}

void subscription::drop_buffer(partition_state& s) {
  buffered_bytes_ -= s.buffered_bytes;
  s.buffered_bytes = 0;
  s.buffer.clear();
}

bool subscription::seek(const TopicPartition& tp, std::int64_t offset, std::int32_t leader_epoch) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  partition_state& s = it->second;
  drop_buffer(s);
  s.position = fetch_position{offset, leader_epoch};
  s.pending_reset.reset();
  s.error.reset();
  return true;
}

bool subscription::request_reset(const TopicPartition& tp, reset_policy policy) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  partition_state& s = it->second;
  drop_buffer(s);
  s.position.reset();
  s.pending_reset = policy;
  s.error.reset();
  return true;
}

std::vector<std::pair<TopicPartition, reset_policy>> subscription::awaiting_reset() const {
  std::vector<std::pair<TopicPartition, reset_policy>> out;
  for (const auto& [tp, s] : parts_) {
    if (s.pending_reset) out.emplace_back(tp, *s.pending_reset);
  }
  return out;
}

bool subscription::set_error(const TopicPartition& tp, std::error_code error, std::string message) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  partition_state& s = it->second;
  const std::int64_t at = s.position ? s.position->offset : -1;
  s.error = partition_error{tp, error, std::move(message), at};
  return true;
}

fetched_status subscription::on_fetched(const TopicPartition& tp, const fetch_position& asked_at,
                                        partition_fetch_result&& result, time_point now, duration replica_ttl) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return fetched_status::not_assigned;
  partition_state& s = it->second;
  // Records fetched from a position the partition has left since (seek, reset), or while
  // records are still buffered (never planned so), would be out of order: dropped.
  if (!s.position || *s.position != asked_at || !s.buffer.empty() || s.error) return fetched_status::stale;

  if (result.high_watermark >= 0) s.high_watermark = result.high_watermark;
  if (result.last_stable_offset >= 0) s.last_stable_offset = result.last_stable_offset;
  if (result.log_start_offset >= 0) s.log_start_offset = result.log_start_offset;
  s.last_fetch_time = now;
  if (result.preferred_read_replica >= 0) {
    s.preferred_replica = result.preferred_read_replica;
    s.preferred_replica_expiry = now + replica_ttl;
  }

  fetch_position end = asked_at;
  if (result.next_offset > end.offset) {
    end.offset = result.next_offset;
    if (result.next_offset_epoch >= 0) end.leader_epoch = result.next_offset_epoch;
  }
  if (!result.records.empty()) {
    record_chunk& c = s.buffer.emplace_back();
    c.records = std::move(result.records);
    c.retained_bytes = result.retained_bytes;
    c.end = end;
    s.buffered_bytes += c.retained_bytes;
    buffered_bytes_ += c.retained_bytes;
  } else {
    // Nothing to hand out (only control batches, aborted records, or nothing new).
    s.position = end;
  }
  if (result.error) {
    s.error = partition_error{tp, result.error, std::move(result.error_message), result.error_offset};
  }
  return fetched_status::kept;
}

std::size_t subscription::take_from(partition_state& s, std::size_t quota, ConsumerRecords& out) {
  std::size_t taken = 0;
  while (taken < quota && !s.buffer.empty()) {
    record_chunk& c = s.buffer.front();
    const std::size_t size = c.records.size();
    const std::size_t n = std::min(quota - taken, size - c.next);
    if (out.empty() && c.next == 0 && n == size) {
      // A whole chunk into an empty result: its vector moves, no record is moved one by one
      // (the common case of a getmany without max_records).
      out = std::move(c.records);
    } else {
      if (out.capacity() < out.size() + n) out.reserve(std::max(out.size() + n, quota));
      const auto first = c.records.begin() + static_cast<std::ptrdiff_t>(c.next);
      out.insert(out.end(), std::make_move_iterator(first), std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n)));
    }
    c.next += n;
    taken += n;
    if (c.next == size) {
      s.position = c.end;
      s.buffered_bytes -= c.retained_bytes;
      buffered_bytes_ -= c.retained_bytes;
      s.buffer.pop_front();
    } else {
      const ConsumerRecord& last = out.back();
      s.position = fetch_position{last.offset + 1, last.leader_epoch >= 0 ? last.leader_epoch : s.position->leader_epoch};
    }
  }
  return taken;
}

take_result subscription::take(std::span<const TopicPartition> only, std::size_t max_records) {
  take_result result;
  // The candidates: unpaused partitions with something to hand out (records or an error).
  std::vector<map_type::iterator> candidates;
  auto consider = [&](map_type::iterator it) {
    const partition_state& s = it->second;
    if (!s.paused && !s.held && (s.has_buffered() || s.error)) candidates.push_back(it);
  };
  if (only.empty()) {
    for (auto it = parts_.begin(); it != parts_.end(); ++it) consider(it);
  } else {
    for (const TopicPartition& tp : only) {
      auto it = parts_.find(tp);
      if (it != parts_.end() && std::find(candidates.begin(), candidates.end(), it) == candidates.end()) consider(it);
    }
  }
  if (candidates.empty() || max_records == 0) return result;
  const std::size_t first = rotation_++ % candidates.size();
  std::rotate(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(first), candidates.end());

  // Shares of max_records: partitions with no more records than an even share take all they
  // have; the rest is split evenly among the others, the remainder of the division going to
  // those earlier in the rotated order.
  const std::size_t n = candidates.size();
  std::vector<std::size_t> avail(n), quota(n, 0), by_avail(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const record_chunk& c : candidates[i]->second.buffer) avail[i] += c.records.size() - c.next;
    by_avail[i] = i;
  }
  std::sort(by_avail.begin(), by_avail.end(), [&](std::size_t x, std::size_t y) { return avail[x] < avail[y]; });
  std::size_t left = max_records, sharing = 0;
  for (std::size_t i = 0; i < n; ++i) sharing += avail[i] > 0 ? 1 : 0;
  std::vector<bool> whole(n, false);
  for (std::size_t i : by_avail) {
    if (avail[i] == 0) continue;
    if (avail[i] > left / sharing) break;
    quota[i] = avail[i];
    whole[i] = true;
    left -= avail[i];
    --sharing;
  }
  if (sharing > 0) {
    const std::size_t base = left / sharing;
    std::size_t extra = left % sharing;
    for (std::size_t i = 0; i < n; ++i) {
      if (avail[i] == 0 || whole[i]) continue;
      quota[i] = base + (extra > 0 ? 1 : 0);
      if (extra > 0) --extra;
    }
  }

  for (std::size_t i = 0; i < n; ++i) {
    partition_state& s = candidates[i]->second;
    if (quota[i] > 0) {
      partition_batch batch{candidates[i]->first, {}};
      result.count += take_from(s, quota[i], batch.records);
      result.batches.push_back(std::move(batch));
    }
    if (!s.has_buffered() && s.error) {
      // Raised only with nothing before it; otherwise the records go first.
      if (result.count == 0) result.error = *s.error;
      break;
    }
  }
  return result;
}

bool subscription::pause(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  it->second.paused = true;
  return true;
}

bool subscription::resume(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  it->second.paused = false;
  return true;
}

std::vector<TopicPartition> subscription::paused() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : parts_) {
    if (s.paused) out.push_back(tp);
  }
  return out;
}

bool subscription::hold(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  it->second.held = true;
  drop_buffer(it->second);
  return true;
}

bool subscription::release(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  it->second.held = false;
  return true;
}

std::vector<TopicPartition> subscription::unheld() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : parts_) {
    if (!s.held) out.push_back(tp);
  }
  return out;
}

void subscription::set_in_flight(const TopicPartition& tp, std::int32_t node) {
  auto it = parts_.find(tp);
  if (it != parts_.end()) it->second.in_flight_node = node;
}

void subscription::end_in_flight(const TopicPartition& tp, std::int32_t node) {
  auto it = parts_.find(tp);
  if (it != parts_.end() && it->second.in_flight_node == node) it->second.in_flight_node = -1;
}

void subscription::clear_preferred_replica(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  if (it != parts_.end()) it->second.preferred_replica = -1;
}

const partition_state* subscription::find(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  return it == parts_.end() ? nullptr : &it->second;
}

}  // namespace asiokafka::consumer
