#include "producer/sansio/accumulator.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "asiokafka/error.hpp"

namespace asiokafka::producer {
namespace {

// Completed batches kept for their buffers (each at most max_batch_size of capacity).
constexpr std::size_t max_spare_batches = 64;

// Whether `x` goes after `b` in its partition's queue.
bool after(const batch* x, const batch* b) noexcept {
  return x->ordinal > b->ordinal || (x->ordinal == b->ordinal && x->split_first > b->split_first);
}

std::int32_t sequence_after(std::int32_t sequence, std::int32_t count) noexcept {
  // Sequences wrap from INT32_MAX to 0 (the broker does the same).
  const std::int64_t next = static_cast<std::int64_t>(sequence) + count;
  return static_cast<std::int32_t>(next % (static_cast<std::int64_t>(std::numeric_limits<std::int32_t>::max()) + 1));
}

// The result of one part of a split batch: it reports to the original batch's result.
struct part_result final : batch_result {
  part_result(std::shared_ptr<batch_result> r, std::int32_t f) : root(std::move(r)), first(f) {}
  void on_done() override { root->part_done(first, static_cast<const outcome&>(*this)); }
  std::shared_ptr<batch_result> root;
  std::int32_t first;  ///< index of its first record in root's batch
};

}  // namespace

batch_result::record_outcome batch_result::outcome_of(std::int32_t index) const noexcept {
  const outcome* o = this;
  std::int32_t first = 0;
  for (const part& p : parts) {
    if (index >= p.first && index < p.first + p.count) {
      o = &p.result;
      first = p.first;
    }
  }
  return {o, o->base_offset < 0 ? -1 : o->base_offset + (index - first)};
}

void batch_result::part_done(std::int32_t first, outcome result) {
  bool all = true;
  for (part& p : parts) {
    if (p.first == first) {
      p.done = true;
      p.result = std::move(result);
    }
    all = all && p.done;
  }
  if (!all) return;
  // The batch as a whole: the first failure, if any.
  for (const part& p : parts) {
    if (p.result.error) {
      static_cast<outcome&>(*this) = p.result;
      break;
    }
  }
  done = true;
  on_done();
}

std::size_t accumulator::held_by(std::size_t batch_bytes) const noexcept {
  // A compressing batch holds its records and, once finished, their compressed form (at
  // most about as large): the budget reserves both up front.
  return options_.compression == protocol::CompressionType::none ? batch_bytes : 2 * batch_bytes;
}

void accumulator::account_footprint(batch& b) noexcept {
  // Compression adds buffers (the compressed copy): the budget follows what the batch holds.
  const std::size_t held = b.builder.footprint();
  if (held > b.reserved) {
    used_ += held - b.reserved;
    b.reserved = held;
  }
}

accumulator::accumulator(accumulator_options options) : options_(std::move(options)) {}

accumulator::~accumulator() = default;

accumulator::partition_queue& accumulator::queue_of(std::string_view topic, std::int32_t partition) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) it = topics_.emplace(std::string(topic), std::vector<std::unique_ptr<partition_queue>>{}).first;
  auto& parts = it->second;
  const auto p = static_cast<std::size_t>(partition);
  if (p >= parts.size()) parts.resize(p + 1);
  if (!parts[p]) {
    parts[p] = std::make_unique<partition_queue>();
    parts[p]->topic = it->first;
    parts[p]->partition = partition;
    parts[p]->index = queues_.size();
    queues_.push_back(parts[p].get());
  }
  return *parts[p];
}

batch* accumulator::new_batch(partition_queue& q, std::size_t reserve, time_point now, bool enqueue) {
  if (!spare_.empty()) {
    spare_bytes_ -= spare_.front()->reserved;
    live_.splice(live_.end(), spare_, spare_.begin());
  } else {
    live_.push_back(std::make_unique<batch>());
  }
  batch* b = live_.back().get();
  b->self = std::prev(live_.end());
  b->topic = q.topic;
  b->partition = q.partition;
  const std::size_t batch_bytes = options_.compression == protocol::CompressionType::none ? reserve : reserve / 2;
  b->builder.reset({.compression = options_.compression, .compression_level = options_.compression_level},
                   batch_bytes > protocol::record_batch_header_size ? batch_bytes - protocol::record_batch_header_size : 0);
  b->result = options_.make_result ? options_.make_result() : std::make_shared<batch_result>();
  // A reused batch's buffers may already be larger than asked (a compressing one holds
  // two): the budget counts what it holds.
  b->reserved = std::max(reserve, b->builder.footprint());
  b->created = now;
  b->not_before = now;
  b->attempts = 0;
  b->last_error.clear();
  b->base_sequence = -1;
  b->stamped_epoch = -1;
  b->ordinal = q.next_ordinal++;
  b->split_first = 0;
  b->queue = q.index;
  b->closed = false;
  b->in_flight = false;
  used_ += b->reserved;
  if (enqueue) q.batches.push_back(b);
  return b;
}

append_result accumulator::append(std::string_view topic, std::int32_t partition, const record_view& record,
                                  lazy_now now, bool may_allocate) {
  return append(queue_of(topic, partition), record, now, may_allocate);
}

append_result accumulator::append(partition_queue& q, const record_view& record, lazy_now now, bool may_allocate) {
  append_result r;
  batch* open = !q.batches.empty() && !q.batches.back()->closed ? q.batches.back() : nullptr;
  const std::int32_t index = open ? open->builder.record_count() : 0;
  r.size = protocol::record_batch_builder::record_size_bound(index, record.key, record.value, record.headers);
  const std::size_t alone = protocol::record_batch_header_size + r.size;
  if (alone > options_.max_request_size || alone > options_.buffer_memory) {
    r.status = append_status::too_large;
    return r;
  }
  if (open && (index == 0 || open->builder.uncompressed_size() + r.size <= options_.max_batch_size)) {
    open->builder.append(record.timestamp, record.key, record.value, record.headers);
    r.b = open;
    r.index = index;
    return r;
  }
  if (open) {
    open->closed = true;
    r.batch_closed = true;
  }
  const std::size_t reserve = held_by(std::max(options_.max_batch_size, alone));
  // With nothing held a batch always goes (a compressing batch may need more than a small
  // buffer_memory: it must not wait for memory that nothing will release).
  if (!may_allocate || (reserve > memory_available() && used_ != 0)) {
    r.status = append_status::no_memory;
    r.needed = reserve;
    return r;
  }
  batch* b = new_batch(q, reserve, now.get());
  b->builder.append(record.timestamp, record.key, record.value, record.headers);
  r.b = b;
  return r;
}

void accumulator::close_open(std::string_view topic, std::int32_t partition) {
  partition_queue& q = queue_of(topic, partition);
  if (!q.batches.empty()) q.batches.back()->closed = true;
}

append_result accumulator::append_batch(std::string_view topic, std::int32_t partition,
                                        protocol::record_batch_builder& built, time_point now, bool may_allocate) {
  append_result r;
  r.size = built.uncompressed_size();
  if (r.size > options_.max_request_size || r.size > options_.buffer_memory) {
    r.status = append_status::too_large;
    return r;
  }
  if (!may_allocate || r.size > memory_available()) {
    r.status = append_status::no_memory;
    r.needed = r.size;
    return r;
  }
  close_open(topic, partition);
  partition_queue& q = queue_of(topic, partition);
  batch* b = new_batch(q, r.size, now);
  std::swap(b->builder, built);
  b->closed = true;
  r.b = b;
  r.batch_closed = true;
  return r;
}

bool accumulator::split(batch* b, time_point not_before) {
  const std::int32_t n = b->builder.record_count();
  if (n < 2) return false;
  partition_queue& q = *queues_[b->queue];
  // Read the records back (the batch may be compressed) into two new batches.
  protocol::RecordsReader reader(protocol::byte_view(b->builder.data().data(), b->builder.data().size()));
  if (!reader.next_batch()) return false;
  std::shared_ptr<batch_result> root = b->result;
  std::int32_t offset_in_root = 0;
  if (const auto* pr = dynamic_cast<const part_result*>(b->result.get())) {
    root = pr->root;
    offset_in_root = pr->first;
  }
  const std::int32_t half = n / 2;
  batch* parts[2] = {new_batch(q, held_by(options_.max_batch_size), b->created, false),
                     new_batch(q, held_by(options_.max_batch_size), b->created, false)};
  protocol::Record rec;
  std::vector<protocol::RecordHeader> headers;
  for (std::int32_t i = 0; i < n; ++i) {
    if (!reader.next_record(rec)) {
      for (batch* p : parts) finish_batch(p);
      return false;
    }
    headers.assign(rec.headers.begin(), rec.headers.end());
    parts[i < half ? 0 : 1]->builder.append(rec.timestamp, rec.key, rec.value, headers);
  }
  // In b's place, in order; memory as their real size (the original's is given back below).
  std::vector<batch_result::part> outcomes;
  for (int k = 0; k < 2; ++k) {
    batch* p = parts[k];
    used_ -= p->reserved;
    p->reserved = std::max(p->builder.uncompressed_size(), p->builder.footprint());
    used_ += p->reserved;
    p->ordinal = b->ordinal;
    p->split_first = b->split_first + (k == 0 ? 0 : half);
    p->closed = true;
    p->not_before = not_before;
    p->attempts = b->attempts;
    const std::int32_t first = offset_in_root + (k == 0 ? 0 : half);
    p->result = std::make_shared<part_result>(root, first);
    outcomes.push_back({first, k == 0 ? half : n - half, false, {}});
  }
  const auto at = std::find_if(q.batches.begin(), q.batches.end(), [&](const batch* x) { return after(x, b); });
  q.batches.insert(at, {parts[0], parts[1]});
  // The root's parts: this batch's range is replaced by its two halves.
  auto& list = root->parts;
  list.erase(std::remove_if(list.begin(), list.end(), [&](const batch_result::part& x) { return x.first == offset_in_root; }),
             list.end());
  list.insert(std::find_if(list.begin(), list.end(), [&](const batch_result::part& x) { return x.first > offset_in_root; }),
              outcomes.begin(), outcomes.end());
  // The original leaves without completing its result.
  take_out(q, b);
  if (options_.idempotent && b->base_sequence >= 0 && b->stamped_epoch == producer_epoch_) gap_ = true;
  b->result.reset();
  finish_batch(b);
  return true;
}

accumulator::readiness accumulator::ready(const partition_queue& q, const batch& b, time_point now, bool exhausted,
                                          time_point& next) const {
  if (q.in_flight >= options_.max_in_flight_per_partition) return readiness::not_ready;  // a response wakes it
  // A retried, numbered batch goes only when its partition has nothing in flight: the broker
  // must see its sequences in order.
  if (b.base_sequence >= 0 && q.in_flight > 0) return readiness::not_ready;
  // Until the broker acknowledged a batch of this partition in the current epoch, one batch
  // at a time: a broker without state for the producer accepts any first sequence, so a
  // second batch could be written ahead of a first that failed (a leader not ready yet).
  if (options_.idempotent && !q.confirmed && q.in_flight > 0) return readiness::not_ready;
  if (b.not_before > now) {
    next = std::min(next, b.not_before);
    return readiness::not_ready;
  }
  if (b.closed || flushing_ > 0 || exhausted) return readiness::urgent;
  const time_point lingered = b.created + options_.linger;
  if (lingered <= now) return readiness::lingered;
  next = std::min(next, lingered);
  return readiness::not_ready;
}

accumulator::taken accumulator::take(partition_queue& q, batch& b, std::int32_t leader, drain_result& r,
                                     std::vector<std::size_t>& request_bytes) {
  auto req = std::find_if(r.requests.begin(), r.requests.end(), [&](const node_batches& x) { return x.node == leader; });
  if (req == r.requests.end()) {
    r.requests.push_back({leader, {}});
    request_bytes.push_back(0);
    req = std::prev(r.requests.end());
  }
  const auto slot = static_cast<std::size_t>(req - r.requests.begin());
  b.closed = true;
  if (!b.builder.finished()) {
    if (const auto ec = b.builder.finish()) {
      q.batches.pop_front();
      r.failed.push_back(&b);
      complete(&b, ec, "could not compress a batch for " + std::string(q.topic) + "-" + std::to_string(q.partition) +
                           ": " + ec.message(), -1, -1, -1);
      r.more = true;  // the partition's next batch may be ready
      return taken::failed;
    }
  }
  account_footprint(b);
  const std::size_t size = b.builder.data().size();
  if (request_bytes[slot] > 0 && request_bytes[slot] + size > options_.max_request_size) return taken::no_room;
  if (options_.idempotent && (b.base_sequence < 0 || b.stamped_epoch != producer_epoch_)) {
    b.base_sequence = q.next_sequence;
    b.stamped_epoch = producer_epoch_;
    q.next_sequence = sequence_after(q.next_sequence, b.builder.record_count());
    b.builder.stamp(producer_id_, producer_epoch_, b.base_sequence);
  }
  q.batches.pop_front();
  b.in_flight = true;
  ++b.attempts;
  ++q.in_flight;
  ++in_flight_;
  request_bytes[slot] += size;
  req->batches.push_back(&b);
  return taken::yes;
}

drain_result accumulator::drain(time_point now,
                                const std::function<std::int32_t(std::string_view, std::int32_t)>& leader_of,
                                const std::function<int(std::int32_t)>& node_in_flight, bool exhausted) {
  drain_result r;
  std::vector<std::size_t> request_bytes;
  // Lingered batches held because their broker is busy: they join a request to it if one
  // starts later in this drain.
  std::vector<std::pair<partition_queue*, std::int32_t>> held;
  const auto requested = [&](std::int32_t node) {
    return std::any_of(r.requests.begin(), r.requests.end(), [&](const node_batches& x) { return x.node == node; });
  };
  const std::size_t n = queues_.size();
  for (std::size_t k = 0; k < n; ++k) {
    partition_queue& q = *queues_[(drain_start_ + k) % n];
    while (!q.batches.empty()) {
      batch& b = *q.batches.front();
      const readiness state = ready(q, b, now, exhausted, r.next_ready);
      if (state == readiness::not_ready) break;
      const std::int32_t leader = leader_of(q.topic, q.partition);
      if (leader < 0) {
        if (std::find(r.unknown_leaders.begin(), r.unknown_leaders.end(), q.topic) == r.unknown_leaders.end()) {
          r.unknown_leaders.push_back(q.topic);
        }
        break;
      }
      const int busy = node_in_flight(leader);
      if (busy >= options_.max_in_flight_per_connection) break;
      if (state == readiness::lingered && busy > 0 && !requested(leader)) {
        held.emplace_back(&q, leader);
        break;
      }
      const taken t = take(q, b, leader, r, request_bytes);
      if (t == taken::failed) continue;  // look at the next one
      if (t == taken::no_room) break;
      // One batch per partition and request: a second goes in the next request.
      if (!q.batches.empty() && ready(q, *q.batches.front(), now, exhausted, r.next_ready) == readiness::urgent) {
        r.more = true;
      }
      break;
    }
  }
  for (const auto& [q, leader] : held) {
    if (requested(leader)) (void)take(*q, *q->batches.front(), leader, r, request_bytes);
  }
  if (n != 0) drain_start_ = (drain_start_ + 1) % n;
  return r;
}

void accumulator::take_out(partition_queue& q, batch* b) noexcept {
  if (b->in_flight) {
    b->in_flight = false;
    --q.in_flight;
    --in_flight_;
  } else if (const auto it = std::find(q.batches.begin(), q.batches.end(), b); it != q.batches.end()) {
    q.batches.erase(it);
  }
}

void accumulator::complete(batch* b, std::error_code error, std::string message, std::int64_t base_offset,
                           std::int64_t log_append_time, std::int64_t log_start_offset) {
  partition_queue& q = *queues_[b->queue];
  take_out(q, b);
  if (b->base_sequence >= 0) {
    if (!error) {
      q.acked_sequence = sequence_after(b->base_sequence, b->builder.record_count());
      q.confirmed = true;
    } else if (b->stamped_epoch == producer_epoch_) {
      // A numbered batch that will never be written leaves a gap in the partition's
      // sequences: later batches can only go after an epoch bump (KIP-360).
      gap_ = true;
    }
  }
  const std::shared_ptr<batch_result> result = std::move(b->result);
  outcome& o = *result;
  o.error = error;
  o.message = std::move(message);
  o.base_offset = base_offset;
  o.log_append_time = log_append_time;
  o.log_start_offset = log_start_offset;
  result->done = true;
  finish_batch(b);
  result->on_done();
}

void accumulator::finish_batch(batch* b) noexcept {
  used_ -= b->reserved;
  // Spare buffers count against buffer_memory with the batches (used + spare stays within
  // it), so what the producer holds is bounded by buffer_memory, not by it plus the spares.
  if (b->reserved <= 3 * options_.max_batch_size && spare_.size() < max_spare_batches &&
      used_ + external() + spare_bytes_ + b->reserved <= options_.buffer_memory) {
    spare_bytes_ += b->reserved;
    spare_.splice(spare_.end(), live_, b->self);
  } else {
    live_.erase(b->self);
  }
}

void accumulator::retry(batch* b, time_point not_before, std::string why) {
  b->last_error = std::move(why);
  partition_queue& q = *queues_[b->queue];
  if (b->in_flight) {
    b->in_flight = false;
    --q.in_flight;
    --in_flight_;
  }
  b->not_before = not_before;
  // Back in creation order: in front of every batch of the partition created after it.
  const auto at = std::find_if(q.batches.begin(), q.batches.end(), [&](const batch* x) { return after(x, b); });
  q.batches.insert(at, b);
}

accumulator::expired accumulator::expire(time_point deadline, std::error_code error, const std::string& message) {
  expired out;
  for (partition_queue* q : queues_) {
    // Oldest first: the first batch still within its deadline ends the partition's scan.
    while (!q->batches.empty() && q->batches.front()->created <= deadline) {
      batch* b = q->batches.front();
      out.numbered = out.numbered || b->base_sequence >= 0;
      ++out.batches;
      std::string why = message;
      if (b->attempts > 0) {
        why += " after " + std::to_string(b->attempts) + " attempt(s); last: " + b->last_error;
      } else {
        why += " before the batch was sent";
      }
      complete(b, error, why + " (" + std::string(q->topic) + "-" + std::to_string(q->partition) + ", " +
                             std::to_string(b->builder.record_count()) + " records)",
               -1, -1, -1);
    }
  }
  return out;
}

std::size_t accumulator::fail_all(std::error_code error, const std::string& message) {
  std::size_t failed = 0;
  for (partition_queue* q : queues_) {
    while (!q->batches.empty()) {
      complete(q->batches.front(), error, message, -1, -1, -1);
      ++failed;
    }
  }
  return failed;
}

void accumulator::set_producer(std::int64_t producer_id, std::int16_t epoch) noexcept {
  producer_id_ = producer_id;
  producer_epoch_ = epoch;
}

sequence_position accumulator::position_of(const batch* b) const noexcept {
  constexpr std::int64_t modulus = static_cast<std::int64_t>(std::numeric_limits<std::int32_t>::max()) + 1;
  const std::int64_t ahead = (static_cast<std::int64_t>(b->base_sequence) - queues_[b->queue]->acked_sequence + modulus) % modulus;
  if (ahead == 0) return sequence_position::next;
  return ahead < modulus / 2 ? sequence_position::ahead : sequence_position::behind;
}

bool accumulator::reset_sequences() {
  if (in_flight_ != 0) return false;
  for (partition_queue* q : queues_) {
    q->next_sequence = 0;
    q->acked_sequence = 0;
    q->confirmed = false;
    for (batch* b : q->batches) b->base_sequence = -1;
  }
  gap_ = false;
  return true;
}

}  // namespace asiokafka::producer
