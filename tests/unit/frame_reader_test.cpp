// net::frame_reader: framing, byte-split feeding, buffer reuse and hand-off, bad sizes.
#include "net/sansio/frame_reader.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"

namespace asiokafka::net {
namespace {

using bytes = std::vector<std::uint8_t>;

void put_i32(bytes& out, std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(u >> shift));
}

// A frame of `n` payload bytes whose content depends on `seed`.
bytes make_frame(std::size_t n, std::uint8_t seed) {
  bytes out;
  put_i32(out, static_cast<std::int32_t>(n));
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(seed + i * 7));
  return out;
}

bytes payload(const bytes& framed) { return bytes(framed.begin() + 4, framed.end()); }

bytes to_bytes(std::span<const std::uint8_t> s) { return bytes(s.begin(), s.end()); }

std::vector<bytes> drain(frame_reader& r, std::error_code& ec) {
  std::vector<bytes> out;
  while (auto f = r.next(ec)) out.push_back(to_bytes(f->bytes()));
  return out;
}

TEST(FrameReader, YieldsFramesFedWhole) {
  frame_reader r(1 << 20);
  bytes stream;
  std::vector<bytes> expected;
  for (std::uint8_t i = 0; i < 50; ++i) {
    const bytes f = make_frame(4 + i * 13u, i);
    expected.push_back(payload(f));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  r.feed(stream);  // many frames in one read
  std::error_code ec;
  EXPECT_EQ(drain(r, ec), expected);
  EXPECT_FALSE(ec);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(FrameReader, EverySplitPointGivesTheSameFrames) {
  bytes stream;
  std::vector<bytes> expected;
  for (std::uint8_t i = 0; i < 4; ++i) {
    const bytes f = make_frame(4 + i * 5u, i);
    expected.push_back(payload(f));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    frame_reader r(1024, 16);
    std::error_code ec;
    r.feed(std::span(stream).first(cut));
    auto got = drain(r, ec);
    r.feed(std::span(stream).subspan(cut));
    for (auto& f : drain(r, ec)) got.push_back(std::move(f));
    EXPECT_EQ(got, expected) << "cut at " << cut;
    EXPECT_FALSE(ec);
  }
  // One byte per read.
  frame_reader r(1024, 16);
  std::vector<bytes> got;
  std::error_code ec;
  for (std::uint8_t b : stream) {
    r.feed(std::span(&b, 1));
    for (auto& f : drain(r, ec)) got.push_back(std::move(f));
  }
  EXPECT_EQ(got, expected);
}

TEST(FrameReader, ReadsALargeFrameInPlaceThroughPrepareAndCommit) {
  frame_reader r(1 << 24, 64);
  const bytes f = make_frame(300000, 9);
  std::size_t at = 0;
  std::size_t reads = 0;
  while (at < f.size()) {
    auto room = r.prepare();
    ASSERT_FALSE(room.empty());
    const std::size_t n = std::min({room.size(), f.size() - at, reads == 0 ? std::size_t{10} : room.size()});
    std::memcpy(room.data(), f.data() + at, n);
    r.commit(n);
    at += n;
    ++reads;
  }
  // After the size is known the rest of the frame fits in one region: two reads in all.
  EXPECT_EQ(reads, 2u);
  std::error_code ec;
  auto got = r.next(ec);
  ASSERT_TRUE(got);
  EXPECT_EQ(to_bytes(got->bytes()), payload(f));
  EXPECT_GE(r.capacity(), f.size());
}

TEST(FrameReader, ReusesItsBufferWhenFramesAreReleased) {
  frame_reader r(1 << 20, 4096);
  const std::uint8_t* storage = nullptr;
  std::size_t capacity = 0;
  for (int round = 0; round < 1000; ++round) {
    const bytes f = make_frame(static_cast<std::size_t>(100 + round % 37 * 50), static_cast<std::uint8_t>(round));
    r.feed(f);
    std::error_code ec;
    auto got = r.next(ec);
    ASSERT_TRUE(got);
    EXPECT_EQ(to_bytes(got->bytes()), payload(f));
    if (round == 10) {
      storage = got->storage().data();
      capacity = r.capacity();
    } else if (round > 10) {
      // Steady state: same storage, no growth, no allocation.
      EXPECT_EQ(got->storage().data(), storage);
      EXPECT_EQ(r.capacity(), capacity);
    }
  }
}

TEST(FrameReader, HeldFramesStayIntactWhileReadingGoesOn) {
  frame_reader r(1 << 20, 64);
  std::vector<frame> held;
  std::vector<bytes> expected;
  for (int i = 0; i < 200; ++i) {
    const bytes f = make_frame(static_cast<std::size_t>(10 + i % 90), static_cast<std::uint8_t>(i));
    // Split feeds so that compaction would overwrite held bytes if it were allowed.
    r.feed(std::span(f).first(3));
    r.feed(std::span(f).subspan(3));
    std::error_code ec;
    auto got = r.next(ec);
    ASSERT_TRUE(got);
    if (i % 3 == 0) {
      held.push_back(*got);
      expected.push_back(payload(f));
    }
  }
  for (std::size_t i = 0; i < held.size(); ++i) EXPECT_EQ(to_bytes(held[i].bytes()), expected[i]) << i;
  const frame body = held[1].suffix(4);
  held.clear();
  EXPECT_EQ(to_bytes(body.bytes()), bytes(expected[1].begin() + 4, expected[1].end()));
}

TEST(FrameReader, OversizeFrameIsTooLargeAndSticky) {
  frame_reader r(100);
  bytes ok = make_frame(100, 1);  // exactly the limit is fine
  r.feed(ok);
  std::error_code ec;
  ASSERT_TRUE(r.next(ec));
  bytes big;
  put_i32(big, 101);
  r.feed(big);
  EXPECT_FALSE(r.next(ec));
  EXPECT_EQ(ec, client_errc::frame_too_large);
  EXPECT_TRUE(r.failed());
  EXPECT_TRUE(r.prepare().empty());
  r.feed(make_frame(4, 0));
  EXPECT_FALSE(r.next(ec));
  EXPECT_EQ(ec, client_errc::frame_too_large);
}

TEST(FrameReader, NegativeAndTinySizesAreMalformed) {
  for (std::int32_t size : {-1, INT32_MIN, 0, 1, 3}) {
    frame_reader r(1 << 20);
    bytes b;
    put_i32(b, size);
    b.resize(16, 0);
    r.feed(b);
    std::error_code ec;
    EXPECT_FALSE(r.next(ec));
    EXPECT_EQ(ec, client_errc::malformed) << size;
    // prepare() sees the bad prefix too, before anything else is read.
    frame_reader r2(1 << 20);
    r2.feed(std::span(b).first(4));
    EXPECT_TRUE(r2.prepare().empty());
    EXPECT_EQ(r2.error(), client_errc::malformed);
  }
  frame_reader r(1 << 20);
  bytes b;
  put_i32(b, 0x7fffffff);
  r.feed(b);
  EXPECT_TRUE(r.prepare().empty());  // never allocates for a hostile size
  EXPECT_EQ(r.error(), client_errc::frame_too_large);
}

TEST(FrameReader, CopyOfOwnsItsBytes) {
  bytes src{1, 2, 3, 4, 5};
  const frame f = frame::copy_of(src);
  src.assign(5, 0);
  EXPECT_EQ(to_bytes(f.bytes()), (bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(to_bytes(f.suffix(3).bytes()), (bytes{4, 5}));
  EXPECT_TRUE(frame::copy_of({}).empty());
}

}  // namespace
}  // namespace asiokafka::net
