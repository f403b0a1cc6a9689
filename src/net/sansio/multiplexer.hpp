// Request bookkeeping of one broker connection, sans-I/O: correlation ids, request frames,
// coalesced writes within in-flight budgets, matching responses, cancellation and deadlines.
// No sockets, no clocks (time is passed in), no callbacks: completions are queued as values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/messages/headers.hpp"
#include "net/sansio/failure.hpp"
#include "net/sansio/frame_reader.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::net {

using request_id = std::uint64_t;

struct multiplexer_config {
  /// Requests written (or being written) whose response has not arrived, abandoned ones
  /// included (their responses still come). Kafka's max.in.flight.requests.per.connection.
  std::size_t max_in_flight_requests = 5;
  /// Bytes of those requests. A single larger request is still sent when nothing else is in
  /// flight, so no request waits forever.
  std::size_t max_in_flight_bytes = 64 * 1024 * 1024;
  /// The first correlation id (tests use it to exercise wraparound).
  std::int32_t first_correlation_id = 0;
};

/// How a request ended. Exactly one per enqueued request.
struct completion {
  request_id id = 0;
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  /// Empty on success. client_errc::timeout, correlation_mismatch, unknown_api,
  /// frame_too_large, std::errc::operation_canceled, or the error given to fail_all().
  std::error_code ec;
  /// The response body (after the response header), keeping the frame's storage alive.
  /// Empty on error and for requests without a response (acks=0 Produce).
  frame body;
  /// On error: whether the request had been handed to the writer (it may have reached the
  /// broker) or never left the queue.
  delivery sent = delivery::not_sent;
};

enum class cancel_result {
  not_found,  ///< Already completed, or never enqueued.
  removed,    ///< Not written yet: dropped, nothing goes on the wire.
  abandoned,  ///< Written or being written: its response will be read and dropped.
};

/// Per-connection request multiplexer. A request moves waiting -> staged (handed to the
/// writer by prepare_write) -> written (on_written) -> done (on_frame), or leaves earlier
/// through cancel, expire or failure. Kafka answers a connection's requests in the order it
/// received them, so a response must carry the correlation id of the oldest request still
/// awaiting one; anything else means the stream cannot be trusted and the connection fails.
class multiplexer {
 public:
  explicit multiplexer(const multiplexer_config& cfg);

  /// Queues a request whose body is already encoded in `api_version`. Builds its frame (size,
  /// request header in the version the generated rule gives, body) and assigns the next
  /// correlation id. Never fails directly: an unknown API/version, an oversized body or a
  /// failed multiplexer completes the request at once with the error.
  request_id enqueue(std::int16_t api_key, std::int16_t api_version, std::vector<std::uint8_t> body,
                     std::string_view client_id, bool expects_response, time_point deadline);
  /// The same for a body encoded with large records fields left out (zero-copy): `gathered`
  /// says where their bytes go, and `owner` keeps those bytes alive. The multiplexer holds
  /// `owner` until the request is written, leaves unwritten, or release_gathered() is called.
  request_id enqueue(std::int16_t api_key, std::int16_t api_version, std::vector<std::uint8_t> body,
                     protocol::messages::GatheredRecords gathered, std::shared_ptr<const void> owner,
                     std::string_view client_id, bool expects_response, time_point deadline);

  /// Stages waiting requests, oldest first, while the in-flight budgets allow, and returns
  /// the buffers to write, in order (two per request: size+header, body). Empty when a write
  /// is already outstanding, nothing fits, the multiplexer failed, or writes are throttled
  /// until after `now`. The returned list and the bytes it points to stay valid and unchanged
  /// until on_written() or destruction, whatever else is called meanwhile.
  std::span<const std::span<const std::uint8_t>> prepare_write(time_point now);
  /// The staged buffers were written completely. Requests without a response complete now.
  void on_written();
  /// Whether buffers from prepare_write() await on_written().
  bool write_outstanding() const noexcept { return staged_ != 0; }

  /// Matches one response frame (header and body, as frame_reader yields it) with the oldest
  /// request awaiting a response. Returns the connection's error when the frame does not
  /// match (correlation_mismatch: every pending request fails with it) or the multiplexer
  /// had already failed.
  std::error_code on_frame(const frame& f);

  /// Cancels one request; it completes with std::errc::operation_canceled.
  cancel_result cancel(request_id id);

  /// Completes requests whose deadline is <= now with client_errc::timeout. A request not
  /// yet handed to the writer just leaves. A staged or written one fails the connection,
  /// as the Java client disconnects on request.timeout.ms: every pending request completes
  /// with client_errc::timeout and the error is returned.
  std::error_code expire(time_point now);
  /// The earliest deadline of a pending request, for the caller's timer.
  std::optional<time_point> next_deadline();

  /// Connection lost (or closed): every pending request completes with `ec` and later ones
  /// fail at once. Buffers from prepare_write() stay valid until on_written() or destruction.
  void fail_all(std::error_code ec);
  bool failed() const noexcept { return static_cast<bool>(error_); }
  /// Drops the owners of every gathered request's records, staged ones included. Only once the
  /// transport can no longer read them (the socket is closed): a closed connection must not
  /// keep its callers' memory (the producer's batches) alive.
  void release_gathered() noexcept;
  std::error_code error() const noexcept { return error_; }

  /// Throttling hook (KIP-219): the connection reads throttle_time_ms from typed responses
  /// and holds further writes until `t`; prepare_write(now) returns nothing before then.
  void throttle_until(time_point t) noexcept { throttled_until_ = t; }
  time_point throttled_until() const noexcept { return throttled_until_; }

  /// The next completion, oldest first.
  std::optional<completion> next_completion();

  std::size_t waiting() const noexcept { return waiting_.size(); }
  std::size_t in_flight_requests() const noexcept { return in_flight_requests_; }
  std::size_t in_flight_bytes() const noexcept { return in_flight_bytes_; }
  /// Requests enqueued and not completed (abandoned ones are completed).
  std::size_t pending() const noexcept { return pending_; }

 private:
  struct request {
    request_id id = 0;
    std::int32_t correlation_id = 0;
    std::int16_t api_key = 0;
    std::int16_t api_version = 0;
    std::int16_t response_header_version = 0;
    bool expects_response = true;
    bool completed = false;  // its completion was queued (abandoned while awaiting a response)
    bool answered = false;   // its response was consumed, or it needs none and was written
    bool counted = false;    // counted in the in-flight budgets
    bool handed_out = false;  // given to the writer (staged): it may have reached the broker
    std::size_t wire_size = 0;
    std::vector<std::uint8_t> head;  // size prefix and request header
    std::vector<std::uint8_t> body;
    std::vector<protocol::messages::GatheredRecords::Segment> gathered;  // written from the owner's memory
    std::shared_ptr<const void> owner;
  };
  struct deadline_entry {
    time_point at;
    request_id id;
  };

  void complete(request& r, std::error_code ec, frame body);
  void release_budget(request& r) noexcept;
  void pop_finished_front();
  /// Position of `id` in `q` (sorted by id), or q.size().
  static std::size_t index_of(const std::deque<request>& q, request_id id) noexcept;
  bool live(request_id id) const noexcept;
  void prune_deadlines();

  multiplexer_config cfg_;
  protocol::messages::RequestHeader header_;  // reused so client_id is not reallocated
  request_id next_id_ = 1;
  std::int32_t next_correlation_id_;
  std::deque<request> waiting_;
  // Staged and written requests in write order: the written ones, then the `staged_` last.
  std::deque<request> in_flight_;
  std::size_t staged_ = 0;
  std::size_t in_flight_requests_ = 0;
  std::size_t in_flight_bytes_ = 0;
  std::size_t pending_ = 0;
  std::vector<std::span<const std::uint8_t>> write_buffers_;
  std::vector<completion> completions_;
  std::size_t completions_head_ = 0;
  std::vector<deadline_entry> deadlines_;  // min-heap; entries of finished requests linger
  time_point throttled_until_{};
  std::error_code error_;
};

}  // namespace asiokafka::net
