#include "net/sansio/frame_reader.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "asiokafka/error.hpp"

namespace asiokafka::net {

frame_reader::frame_reader(std::size_t max_frame_bytes, std::size_t initial_capacity)
    : max_frame_(max_frame_bytes), initial_capacity_(std::max<std::size_t>(initial_capacity, 16)) {}

std::size_t frame_reader::current_frame_total() {
  if (ec_ || buffered() < 4) return 0;
  const std::uint8_t* p = buf_.data() + begin_;
  const auto size = static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                              (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
  if (size < 4) {
    ec_ = client_errc::malformed;
    return 0;
  }
  if (static_cast<std::size_t>(size) > max_frame_) {
    ec_ = client_errc::frame_too_large;
    return 0;
  }
  return 4 + static_cast<std::size_t>(size);
}

std::span<std::uint8_t> frame_reader::prepare() {
  const std::size_t total = current_frame_total();
  if (ec_) return {};
  const std::size_t have = buffered();
  // Read the rest of the current frame in one piece when its size is known; otherwise any
  // reasonable amount (the read may also bring the next frames).
  const std::size_t want_total = total > have ? total : have + min_read;
  if (have == 0 && buf_.unique()) begin_ = end_ = 0;  // nothing unread and nobody holds a frame
  if (buf_.capacity() - begin_ < want_total) make_room(want_total);
  return {buf_.data() + end_, buf_.capacity() - end_};
}

void frame_reader::make_room(std::size_t want_total) {
  const std::size_t have = buffered();
  if (buf_.unique() && buf_.capacity() >= want_total) {
    // Only owner: slide the unread tail to the front.
    if (have != 0) std::memmove(buf_.data(), buf_.data() + begin_, have);
  } else {
    // Growing, or frames handed out still live in this buffer: a fresh buffer. Growth is
    // geometric so feeding many frames without draining them stays linear.
    std::size_t cap = std::max(want_total, initial_capacity_);
    if (buf_.unique()) cap = std::max(cap, buf_.capacity() + buf_.capacity() / 2);
    shared_buffer fresh = shared_buffer::allocate(cap);
    if (have != 0) std::memcpy(fresh.data(), buf_.data() + begin_, have);
    buf_ = std::move(fresh);
  }
  begin_ = 0;
  end_ = have;
}

void frame_reader::commit(std::size_t n) {
  if (ec_) return;
  end_ += std::min(n, buf_.capacity() - end_);
}

void frame_reader::feed(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty() && !ec_) {
    const auto room = prepare();
    if (room.empty()) return;
    const std::size_t n = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), n);
    commit(n);
    bytes = bytes.subspan(n);
  }
}

std::optional<frame> frame_reader::next(std::error_code& ec) {
  const std::size_t total = current_frame_total();
  ec = ec_;
  if (total == 0 || buffered() < total) return std::nullopt;
  const std::span<const std::uint8_t> bytes(buf_.data() + begin_ + 4, total - 4);
  begin_ += total;
  return frame(buf_, bytes);
}

}  // namespace asiokafka::net
