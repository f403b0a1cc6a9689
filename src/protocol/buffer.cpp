#include "asiokafka/buffer.hpp"

#include <cstring>
#include <new>
#include <utility>

namespace asiokafka {

namespace {

// Large blocks freed on a thread are kept for its next allocations (a few of them, bounded in
// bytes; see detail::cached_allocate). A consumer allocates a fetch response, decompression
// buffers and vectors of records of about the same sizes over and over; returning each to
// malloc made glibc give the top of the heap back to the kernel and fault it in again on the
// next fetch, which cost more CPU than decoding the records (docs/benchmarks.md, "Consumer").
// A block is reused for a request of at least half its size. Off under AddressSanitizer, so
// that a use after free stays visible.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool cache_enabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool cache_enabled = false;
#else
constexpr bool cache_enabled = true;
#endif
#else
constexpr bool cache_enabled = true;
#endif
constexpr std::size_t cache_min_capacity = 64 * 1024;
constexpr std::size_t cache_slots = 16;
constexpr std::size_t cache_max_bytes = std::size_t{16} << 20;

struct block_cache {
  struct slot {
    void* mem = nullptr;
    std::size_t capacity = 0;
  };
  slot slots[cache_slots];
  std::size_t count = 0;
  std::size_t bytes = 0;
  ~block_cache();
};

thread_local bool cache_gone = false;  // trivially destructible: readable during thread exit
thread_local block_cache cache;

block_cache::~block_cache() {
  for (std::size_t i = 0; i < count; ++i) ::operator delete(slots[i].mem);
  count = 0;
  cache_gone = true;
}

// A cached block of at least `capacity` bytes and at most twice that (smallest first), or null.
// Sizes are of whole allocations.
void* take_cached(std::size_t capacity, std::size_t& got) noexcept {
  if (!cache_enabled || capacity < cache_min_capacity || cache_gone) return nullptr;
  std::size_t best = cache_slots;
  for (std::size_t i = 0; i < cache.count; ++i) {
    const std::size_t c = cache.slots[i].capacity;
    if (c >= capacity && c / 2 <= capacity && (best == cache_slots || c < cache.slots[best].capacity)) best = i;
  }
  if (best == cache_slots) return nullptr;
  void* mem = cache.slots[best].mem;
  got = cache.slots[best].capacity;
  cache.bytes -= got;
  cache.slots[best] = cache.slots[--cache.count];
  return mem;
}

// Keeps a freed block for reuse; false when it should go back to the allocator.
bool keep(void* mem, std::size_t capacity) noexcept {
  if (!cache_enabled || capacity < cache_min_capacity || cache_gone) return false;
  if (cache.bytes + capacity > cache_max_bytes) return false;
  if (cache.count == cache_slots) {
    // Full: the new block replaces the smallest one if it is larger (fetches grow, rarely shrink).
    std::size_t smallest = 0;
    for (std::size_t i = 1; i < cache_slots; ++i) {
      if (cache.slots[i].capacity < cache.slots[smallest].capacity) smallest = i;
    }
    if (cache.slots[smallest].capacity >= capacity) return false;
    cache.bytes -= cache.slots[smallest].capacity;
    ::operator delete(cache.slots[smallest].mem);
    cache.slots[smallest] = {mem, capacity};
    cache.bytes += capacity;
    return true;
  }
  cache.slots[cache.count++] = {mem, capacity};
  cache.bytes += capacity;
  return true;
}

}  // namespace

namespace detail {

void* cached_allocate(std::size_t bytes) {
  std::size_t got = bytes;
  if (void* mem = take_cached(bytes, got)) return mem;
  return ::operator new(bytes);
}

void cached_deallocate(void* p, std::size_t bytes) noexcept {
  if (p != nullptr && !keep(p, bytes)) ::operator delete(p);
}

}  // namespace detail

// The bytes follow the block header in the same allocation; the header's size is a multiple
// of its alignment, so the bytes start suitably aligned for any byte access.
shared_buffer shared_buffer::allocate(std::size_t capacity) {
  shared_buffer out;
  if (capacity == 0) return out;
  // The cache counts whole allocations (header included), as cached_allocate's callers do.
  const std::size_t total = sizeof(block) + capacity;
  std::size_t got = total;
  void* mem = take_cached(total, got);
  if (mem == nullptr) mem = ::operator new(total);
  out.b_ = ::new (mem) block{{1}, got - sizeof(block)};
  return out;
}

shared_buffer::shared_buffer(const shared_buffer& o) noexcept : b_(o.b_) {
  if (b_ != nullptr) b_->refs.fetch_add(1, std::memory_order_relaxed);
}

shared_buffer& shared_buffer::operator=(const shared_buffer& o) noexcept {
  if (o.b_ != nullptr) o.b_->refs.fetch_add(1, std::memory_order_relaxed);
  release();
  b_ = o.b_;
  return *this;
}

shared_buffer& shared_buffer::operator=(shared_buffer&& o) noexcept {
  if (this != &o) {
    release();
    b_ = o.b_;
    o.b_ = nullptr;
  }
  return *this;
}

std::uint8_t* shared_buffer::data() const noexcept {
  return b_ != nullptr ? reinterpret_cast<std::uint8_t*>(b_ + 1) : nullptr;
}

void shared_buffer::release() noexcept {
  if (b_ == nullptr) return;
  if (b_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    const std::size_t total = sizeof(block) + b_->capacity;
    b_->~block();
    if (!keep(static_cast<void*>(b_), total)) ::operator delete(static_cast<void*>(b_));
  }
  b_ = nullptr;
}

frame frame::copy_of(std::span<const std::uint8_t> bytes) {
  shared_buffer b = shared_buffer::allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
  const std::span<const std::uint8_t> view(b.data(), bytes.size());
  return {std::move(b), view};
}

}  // namespace asiokafka
