// Reference-counted byte storage and the frame view that keeps it alive: how responses (and the
// record views inside them) are handed to users without copying bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace asiokafka {

namespace detail {
/// Memory for large, short-lived blocks of the data path (fetch responses, decompressed
/// batches, vectors of consumed records): blocks of 64 KiB and more freed on a thread are kept
/// for its next allocations of about the same size (a few, bounded in bytes), instead of going
/// back to malloc, which gave the top of its heap back to the kernel and faulted it in again
/// on every fetch. Smaller blocks go straight to operator new/delete.
void* cached_allocate(std::size_t bytes);
void cached_deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace detail

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

}  // namespace asiokafka
