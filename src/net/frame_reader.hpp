// Incremental parser of Kafka response frames (int32 size prefix, then header and body) over
// a reusable, reference-counted buffer. Sans-I/O: the caller reads from its socket into
// prepare() and commit()s, or feed()s bytes; next() yields complete frames.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

namespace asiokafka::net {

/// Fixed-capacity byte storage shared by reference counting (one allocation holds the count
/// and the bytes). Bytes start uninitialized. Copies share the bytes; the count is atomic, so
/// a copy may be released on another thread.
class shared_buffer {
 public:
  shared_buffer() noexcept = default;
  /// A buffer of `capacity` uninitialized bytes (capacity 0 gives an empty handle).
  static shared_buffer allocate(std::size_t capacity);

  shared_buffer(const shared_buffer& o) noexcept;
  shared_buffer(shared_buffer&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  shared_buffer& operator=(const shared_buffer& o) noexcept;
  shared_buffer& operator=(shared_buffer&& o) noexcept;
  ~shared_buffer() { release(); }

  std::uint8_t* data() const noexcept;
  std::size_t capacity() const noexcept { return b_ != nullptr ? b_->capacity : 0; }
  /// Whether this handle is the only owner, so the bytes may be overwritten. The load
  /// acquires, so the other owners' reads happen before a write that follows.
  bool unique() const noexcept { return b_ != nullptr && b_->refs.load(std::memory_order_acquire) == 1; }
  explicit operator bool() const noexcept { return b_ != nullptr; }

 private:
  struct block {
    std::atomic<std::size_t> refs;
    std::size_t capacity;
  };
  void release() noexcept;
  block* b_ = nullptr;
};

/// A view of bytes that keeps their storage alive: a complete response frame (without its
/// size prefix), or a part of one such as the response body. Copying a frame copies a
/// reference, never the bytes; the bytes stay valid and unchanged for as long as any frame
/// (or shared_buffer) referring to the storage lives, whatever the reader does meanwhile.
class frame {
 public:
  frame() noexcept = default;
  frame(shared_buffer storage, std::span<const std::uint8_t> bytes) noexcept
      : storage_(std::move(storage)), bytes_(bytes) {}
  /// A frame over a private copy of `bytes` (tests, fuzzing).
  static frame copy_of(std::span<const std::uint8_t> bytes);

  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }
  const shared_buffer& storage() const noexcept { return storage_; }
  /// The bytes [offset, size()) of this frame, sharing its storage. Precondition: offset <= size().
  frame suffix(std::size_t offset) const noexcept { return {storage_, bytes_.subspan(offset)}; }

 private:
  shared_buffer storage_;
  std::span<const std::uint8_t> bytes_;
};

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
