#include "net/sansio/multiplexer.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::net {

namespace {

// Orders the deadline heap so that the earliest deadline is at the front.
struct later {
  template <class T>
  bool operator()(const T& a, const T& b) const noexcept {
    return a.at > b.at;
  }
};

}  // namespace

multiplexer::multiplexer(const multiplexer_config& cfg)
    : cfg_(cfg), next_correlation_id_(cfg.first_correlation_id) {
  cfg_.max_in_flight_requests = std::max<std::size_t>(cfg_.max_in_flight_requests, 1);
}

request_id multiplexer::enqueue(std::int16_t api_key, std::int16_t api_version, std::vector<std::uint8_t> body,
                                std::string_view client_id, bool expects_response, time_point deadline) {
  return enqueue(api_key, api_version, std::move(body), {}, nullptr, client_id, expects_response, deadline);
}

request_id multiplexer::enqueue(std::int16_t api_key, std::int16_t api_version, std::vector<std::uint8_t> body,
                                protocol::messages::GatheredRecords gathered, std::shared_ptr<const void> owner,
                                std::string_view client_id, bool expects_response, time_point deadline) {
  request r;
  const std::size_t gathered_bytes = gathered.bytes();
  r.id = next_id_++;
  r.api_key = api_key;
  r.api_version = api_version;
  r.expects_response = expects_response;
  ++pending_;

  const std::int16_t request_header = protocol::request_header_version(api_key, api_version);
  r.response_header_version = protocol::response_header_version(api_key, api_version);
  std::error_code ec = error_;
  if (!ec && (request_header < 0 || r.response_header_version < 0)) ec = client_errc::unknown_api;
  if (!ec) {
    header_.request_api_key = api_key;
    header_.request_api_version = api_version;
    header_.correlation_id = next_correlation_id_;
    if (!header_.client_id || *header_.client_id != client_id) header_.client_id = std::string(client_id);
    protocol::writer w(r.head);
    w.i32(0);  // size, patched below
    ec = header_.encode(r.head, request_header);
  }
  if (!ec) {
    const std::size_t size = r.head.size() - 4 + body.size() + gathered_bytes;
    if (size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) ec = client_errc::frame_too_large;
    else protocol::writer(r.head).patch_i32(0, static_cast<std::int32_t>(size));
  }
  if (ec) {
    complete(r, ec, {});
    return r.id;
  }

  // Correlation ids stay non-negative and wrap to 0; matching is by position, so reuse after
  // 2^31 requests is harmless.
  r.correlation_id = next_correlation_id_;
  next_correlation_id_ = next_correlation_id_ == std::numeric_limits<std::int32_t>::max() ? 0 : next_correlation_id_ + 1;
  r.body = std::move(body);
  r.wire_size = r.head.size() + r.body.size() + gathered_bytes;
  if (!gathered.segments.empty()) {
    r.gathered = std::move(gathered.segments);
    r.owner = std::move(owner);
  }
  if (deadline != time_point::max()) {
    if (deadlines_.size() > 64 && deadlines_.size() > 2 * pending_) prune_deadlines();
    deadlines_.push_back({deadline, r.id});
    std::push_heap(deadlines_.begin(), deadlines_.end(), later{});
  }
  const request_id id = r.id;
  waiting_.push_back(std::move(r));
  return id;
}

std::span<const std::span<const std::uint8_t>> multiplexer::prepare_write(time_point now) {
  // While a write is outstanding the writer still iterates write_buffers_: leave it alone.
  if (error_ || staged_ != 0 || now < throttled_until_) return {};
  write_buffers_.clear();
  while (!waiting_.empty()) {
    request& r = waiting_.front();
    if (in_flight_requests_ + 1 > cfg_.max_in_flight_requests) break;
    if (in_flight_requests_ != 0 && in_flight_bytes_ + r.wire_size > cfg_.max_in_flight_bytes) break;
    ++in_flight_requests_;
    in_flight_bytes_ += r.wire_size;
    r.counted = true;
    r.handed_out = true;
    in_flight_.push_back(std::move(r));  // deque: earlier elements do not move
    waiting_.pop_front();
    ++staged_;
  }
  for (auto it = in_flight_.end() - static_cast<std::ptrdiff_t>(staged_); it != in_flight_.end(); ++it) {
    write_buffers_.emplace_back(it->head);
    // The body's pieces with the gathered records between them, each at its offset.
    const std::span<const std::uint8_t> body(it->body);
    std::size_t at = 0;
    for (const auto& g : it->gathered) {
      if (g.offset > at) write_buffers_.push_back(body.subspan(at, g.offset - at));
      if (!g.data.empty()) write_buffers_.push_back(g.data);
      at = g.offset;
    }
    if (at < body.size()) write_buffers_.push_back(body.subspan(at));
  }
  return write_buffers_;
}

void multiplexer::on_written() {
  for (auto it = in_flight_.end() - static_cast<std::ptrdiff_t>(staged_); it != in_flight_.end(); ++it) {
    std::vector<std::uint8_t>().swap(it->head);  // written: the bytes are no longer needed
    std::vector<std::uint8_t>().swap(it->body);
    it->gathered.clear();
    it->owner.reset();
    if (!it->expects_response && !it->answered) {
      it->answered = true;
      release_budget(*it);
      if (!it->completed) complete(*it, {}, {});
    }
  }
  staged_ = 0;
  write_buffers_.clear();
  pop_finished_front();
}

std::error_code multiplexer::on_frame(const frame& f) {
  if (error_) return error_;
  // The oldest request awaiting a response; it may still be staged, since a response can
  // be read before the write's completion is processed.
  request* r = nullptr;
  for (auto& e : in_flight_) {
    if (e.expects_response && !e.answered) {
      r = &e;
      break;
    }
  }
  protocol::reader rd(f.bytes());
  const std::int32_t correlation_id = rd.i32();
  if (!rd.ok()) {
    fail_all(client_errc::malformed);
    return error_;
  }
  if (r == nullptr || correlation_id != r->correlation_id) {
    fail_all(client_errc::correlation_mismatch);
    return error_;
  }
  if (r->response_header_version >= 1) rd.skip_tagged_fields();
  r->answered = true;
  release_budget(*r);
  if (!r->completed) {
    // A broken header tail fails only this request: the frame boundary is intact.
    if (!rd.ok()) complete(*r, rd.error(), {});
    else complete(*r, {}, f.suffix(f.size() - rd.remaining()));
  }
  pop_finished_front();
  return {};
}

cancel_result multiplexer::cancel(request_id id) {
  const auto canceled = std::make_error_code(std::errc::operation_canceled);
  if (const std::size_t i = index_of(waiting_, id); i != waiting_.size()) {
    complete(waiting_[i], canceled, {});
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
    return cancel_result::removed;
  }
  const std::size_t i = index_of(in_flight_, id);
  if (i == in_flight_.size() || in_flight_[i].completed) return cancel_result::not_found;
  complete(in_flight_[i], canceled, {});
  return cancel_result::abandoned;
}

std::error_code multiplexer::expire(time_point now) {
  if (error_) return error_;
  bool written_expired = false;
  while (!deadlines_.empty() && deadlines_.front().at <= now) {
    std::pop_heap(deadlines_.begin(), deadlines_.end(), later{});
    const request_id id = deadlines_.back().id;
    deadlines_.pop_back();
    if (const std::size_t i = index_of(waiting_, id); i != waiting_.size()) {
      complete(waiting_[i], client_errc::timeout, {});
      waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (const std::size_t j = index_of(in_flight_, id); j != in_flight_.size() && !in_flight_[j].completed) {
      written_expired = true;
    }
  }
  if (written_expired) fail_all(client_errc::timeout);
  return error_;
}

std::optional<time_point> multiplexer::next_deadline() {
  while (!deadlines_.empty() && !live(deadlines_.front().id)) {
    std::pop_heap(deadlines_.begin(), deadlines_.end(), later{});
    deadlines_.pop_back();
  }
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.front().at;
}

void multiplexer::fail_all(std::error_code ec) {
  if (error_) return;
  error_ = ec ? ec : std::make_error_code(std::errc::connection_aborted);
  for (auto& r : in_flight_) {  // older than the waiting ones
    r.answered = true;  // nothing more will be read
    release_budget(r);
    if (!r.completed) complete(r, error_, {});
  }
  for (auto& r : waiting_) complete(r, error_, {});
  waiting_.clear();
  deadlines_.clear();
  pop_finished_front();  // staged ones stay until on_written(): the writer holds their bytes
}

std::optional<completion> multiplexer::next_completion() {
  if (completions_head_ == completions_.size()) {
    completions_.clear();  // keeps the capacity
    completions_head_ = 0;
    return std::nullopt;
  }
  return std::move(completions_[completions_head_++]);
}

void multiplexer::complete(request& r, std::error_code ec, frame body) {
  r.completed = true;
  --pending_;
  completions_.push_back(
      {r.id, r.api_key, r.api_version, ec, std::move(body), r.handed_out ? delivery::maybe_sent : delivery::not_sent});
}

void multiplexer::release_budget(request& r) noexcept {
  if (!r.counted) return;
  r.counted = false;
  --in_flight_requests_;
  in_flight_bytes_ -= r.wire_size;
}

void multiplexer::release_gathered() noexcept {
  for (auto& r : in_flight_) r.owner.reset();
  for (auto& r : waiting_) r.owner.reset();
}

void multiplexer::pop_finished_front() {
  // Only written requests leave: staged ones are the last `staged_` and the writer holds them.
  while (in_flight_.size() > staged_ && in_flight_.front().answered) in_flight_.pop_front();
}

std::size_t multiplexer::index_of(const std::deque<request>& q, request_id id) noexcept {
  const auto it = std::lower_bound(q.begin(), q.end(), id, [](const request& r, request_id v) { return r.id < v; });
  return it != q.end() && it->id == id ? static_cast<std::size_t>(it - q.begin()) : q.size();
}

bool multiplexer::live(request_id id) const noexcept {
  if (index_of(waiting_, id) != waiting_.size()) return true;
  const std::size_t j = index_of(in_flight_, id);
  return j != in_flight_.size() && !in_flight_[j].completed;
}

void multiplexer::prune_deadlines() {
  std::erase_if(deadlines_, [this](const deadline_entry& e) { return !live(e.id); });
  std::make_heap(deadlines_.begin(), deadlines_.end(), later{});
}

}  // namespace asiokafka::net
