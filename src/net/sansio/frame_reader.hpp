// Incremental parser of Kafka response frames (int32 size prefix, then header and body) over
// a reusable, reference-counted buffer. Sans-I/O: the caller reads from its socket into
// prepare() and commit()s, or feed()s bytes; next() yields complete frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "asiokafka/buffer.hpp"

namespace asiokafka::net {

using asiokafka::frame;
using asiokafka::shared_buffer;

/// Splits a byte stream into Kafka response frames.
///
/// Buffer policy: one buffer, reused. A frame is handed out as a `frame` referring to the
/// buffer (no copy). When the reader needs room it compacts the unread tail to the front if
/// it is the buffer's only owner, and otherwise (someone still holds a frame, e.g. a fetch
/// response whose records are being consumed) moves the unread tail to a fresh buffer and
/// leaves the old one to its holders. So in steady state, with frames released before the
/// next read, nothing is allocated; the buffer grows to hold the largest frame (a frame is
/// always contiguous, read in place once its size is known) and never shrinks. Holding a
/// small frame pins the whole buffer it lives in; copy it out to keep it long.
///
/// A size prefix below 4 (a frame holds at least a correlation id) is `malformed`; above
/// `max_frame_bytes` it is `frame_too_large`. Either poisons the reader: every later next()
/// returns the same error, prepare() returns an empty span and bytes are ignored.
class frame_reader {
 public:
  /// `max_frame_bytes` bounds a frame's size prefix (the bytes after it). `initial_capacity`
  /// is the buffer's first size and the least size of any fresh buffer.
  explicit frame_reader(std::size_t max_frame_bytes, std::size_t initial_capacity = 64 * 1024);

  /// A writable region after the buffered bytes: at least the rest of the current frame when
  /// its size is known, else at least min_read bytes. Valid until the next non-const call;
  /// write into it and commit(). Empty once the reader failed.
  std::span<std::uint8_t> prepare();
  /// Marks `n` bytes of the last prepare() region as received. Precondition: n <= its size.
  void commit(std::size_t n);
  /// Copies `bytes` in (prepare + commit in a loop). Ignored once the reader failed.
  void feed(std::span<const std::uint8_t> bytes);

  /// The next complete frame, or nullopt when more bytes are needed or on error (`ec` set,
  /// and sticky). The frame is the bytes after the size prefix: response header and body.
  std::optional<frame> next(std::error_code& ec);

  std::error_code error() const noexcept { return ec_; }
  bool failed() const noexcept { return static_cast<bool>(ec_); }
  /// Bytes received and not yet returned as frames.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  std::size_t capacity() const noexcept { return buf_.capacity(); }

  /// The least free space prepare() offers while no frame size is known.
  static constexpr std::size_t min_read = 4096;

 private:
  // Validates the size prefix when 4 bytes are buffered; returns the frame's total size
  // (prefix included), 0 when unknown or invalid (then ec_ is set).
  std::size_t current_frame_total();
  void make_room(std::size_t want_total);

  shared_buffer buf_;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last received byte
  std::size_t max_frame_;
  std::size_t initial_capacity_;
  std::error_code ec_;
};

}  // namespace asiokafka::net
