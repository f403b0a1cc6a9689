// net::multiplexer, scripted: a fake broker parses what prepare_write() hands out and answers
// in order; responses go back through a frame_reader. Plus a seeded randomized run that checks
// every request completes exactly once.
#include "net/sansio/multiplexer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/sansio/frame_reader.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::net {
namespace {

using bytes = std::vector<std::uint8_t>;
using std::chrono::milliseconds;

const time_point t0{};
const time_point never = time_point::max();
const auto canceled = std::make_error_code(std::errc::operation_canceled);

// (api key, version) pairs covering the four header combinations.
struct api {
  std::int16_t key;
  std::int16_t version;
};
constexpr api api_versions_v3{18, 3};  // request header v2, response header v0 (KIP-511)
constexpr api metadata_v12{3, 12};     // v2 / v1
constexpr api produce_v3{0, 3};        // v1 / v0
constexpr api produce_v9{0, 9};        // v2 / v1
constexpr api apis[] = {api_versions_v3, metadata_v12, produce_v3, produce_v9};

// A request body that names itself: the tag, then `pad` filler bytes.
bytes body_with_tag(std::uint64_t tag, std::size_t pad) {
  bytes b;
  protocol::writer w(b);
  w.i64(static_cast<std::int64_t>(tag));
  b.resize(8 + pad, 0xab);
  return b;
}

std::uint64_t tag_of(std::span<const std::uint8_t> body) {
  protocol::reader r(body);
  return static_cast<std::uint64_t>(r.i64());
}

// What the fake broker read from one request frame.
struct seen_request {
  std::int16_t api_key;
  std::int16_t api_version;
  std::int32_t correlation_id;
  bytes body;
};

// Parses request frames out of written buffers and answers them in order.
class fake_broker {
 public:
  std::vector<seen_request> read(std::span<const std::span<const std::uint8_t>> buffers) {
    for (auto b : buffers) stream_.insert(stream_.end(), b.begin(), b.end());
    std::vector<seen_request> out;
    while (stream_.size() >= 4) {
      protocol::reader size_reader(stream_);
      const auto size = static_cast<std::size_t>(size_reader.i32());
      if (stream_.size() < 4 + size) break;
      protocol::reader r(std::span<const std::uint8_t>(stream_).subspan(4, size));
      seen_request s{};
      s.api_key = r.i16();
      s.api_version = r.i16();
      s.correlation_id = r.i32();
      r.nullable_string();  // client_id
      if (protocol::request_header_version(s.api_key, s.api_version) == 2) r.skip_tagged_fields();
      EXPECT_TRUE(r.ok());
      const auto body = r.raw(r.remaining());
      s.body.assign(body.begin(), body.end());
      out.push_back(std::move(s));
      stream_.erase(stream_.begin(), stream_.begin() + static_cast<std::ptrdiff_t>(4 + size));
    }
    return out;
  }

  // A response frame echoing the request's tag; flexible headers carry an unknown tagged
  // field the multiplexer must skip.
  static bytes answer(const seen_request& s, std::int32_t correlation_id) {
    bytes out;
    protocol::writer w(out);
    w.i32(0);
    w.i32(correlation_id);
    if (protocol::response_header_version(s.api_key, s.api_version) == 1) {
      w.uvarint(1);  // one tagged field: tag 7, 2 bytes
      w.uvarint(7);
      w.uvarint(2);
      w.i16(0x1234);
    }
    w.i64(static_cast<std::int64_t>(tag_of(s.body)));
    w.i32(0x0a0b0c0d);
    w.patch_i32(0, static_cast<std::int32_t>(out.size() - 4));
    return out;
  }
  static bytes answer(const seen_request& s) { return answer(s, s.correlation_id); }

 private:
  bytes stream_;
};

std::vector<completion> drain(multiplexer& m) {
  std::vector<completion> out;
  while (auto c = m.next_completion()) out.push_back(std::move(*c));
  return out;
}

// Feeds response bytes through a reader into the multiplexer; returns the first error.
std::error_code deliver(frame_reader& reader, multiplexer& m, std::span<const std::uint8_t> data) {
  reader.feed(data);
  std::error_code ec;
  while (auto f = reader.next(ec)) {
    if (auto e = m.on_frame(*f)) return e;
  }
  return ec;
}

multiplexer_config config(std::size_t requests, std::size_t bytes_budget) {
  multiplexer_config c;
  c.max_in_flight_requests = requests;
  c.max_in_flight_bytes = bytes_budget;
  return c;
}

TEST(Multiplexer, TenThousandPipelinedRequestsMatchInOrder) {
  multiplexer m(config(64, 8192));
  frame_reader reader(1 << 20, 256);
  fake_broker broker;
  std::map<request_id, std::uint64_t> tag_of_id;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const api a = apis[i % 4];
    const request_id id = m.enqueue(a.key, a.version, body_with_tag(i, i % 300), "client-1", true, never);
    tag_of_id[id] = i;
  }
  EXPECT_EQ(m.waiting(), 10000u);
  std::size_t writes = 0;
  std::size_t max_batch = 0;
  std::vector<completion> done;
  std::int32_t expected_correlation = 0;
  while (done.size() < 10000) {
    const auto buffers = m.prepare_write(t0);
    ASSERT_FALSE(buffers.empty());
    EXPECT_LE(m.in_flight_requests(), 64u);
    EXPECT_TRUE(m.in_flight_bytes() <= 8192 || m.in_flight_requests() == 1);
    EXPECT_TRUE(m.prepare_write(t0).empty()) << "one write at a time";
    const auto requests = broker.read(buffers);
    m.on_written();
    max_batch = std::max(max_batch, requests.size());
    ++writes;
    bytes responses;
    for (const auto& s : requests) {
      EXPECT_EQ(s.correlation_id, expected_correlation++);
      const bytes r = fake_broker::answer(s);
      responses.insert(responses.end(), r.begin(), r.end());
    }
    if (writes <= 3) {
      for (std::uint8_t b : responses) ASSERT_FALSE(deliver(reader, m, std::span(&b, 1)));  // byte by byte
    } else {
      ASSERT_FALSE(deliver(reader, m, responses));  // many frames in one read
    }
    for (auto& c : drain(m)) done.push_back(std::move(c));
  }
  EXPECT_GT(max_batch, 10u);  // writes were coalesced
  EXPECT_LT(writes, 10000u);
  for (std::size_t i = 0; i < done.size(); ++i) {
    ASSERT_FALSE(done[i].ec) << i;
    EXPECT_EQ(done[i].id, i + 1);
    EXPECT_EQ(done[i].api_key, apis[i % 4].key);
    ASSERT_EQ(done[i].body.size(), 12u);
    EXPECT_EQ(tag_of(done[i].body.bytes()), tag_of_id[done[i].id]);
  }
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.in_flight_requests(), 0u);
  EXPECT_EQ(m.in_flight_bytes(), 0u);
}

TEST(Multiplexer, BudgetsHoldRequestsBack) {
  multiplexer m(config(2, 1000));
  fake_broker broker;
  for (int i = 0; i < 5; ++i) m.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(i, 0), "c", true, never);
  auto requests = broker.read(m.prepare_write(t0));
  EXPECT_EQ(requests.size(), 2u);
  m.on_written();
  EXPECT_TRUE(m.prepare_write(t0).empty());  // two in flight
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[0])));
  EXPECT_EQ(broker.read(m.prepare_write(t0)).size(), 1u);
  m.on_written();

  // A request larger than the byte budget goes alone once nothing else is in flight.
  multiplexer big(config(10, 100));
  big.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(1, 500), "c", true, never);
  big.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(2, 10), "c", true, never);
  EXPECT_EQ(broker.read(big.prepare_write(t0)).size(), 1u);
  big.on_written();
  EXPECT_TRUE(big.prepare_write(t0).empty());  // 500+ bytes in flight, budget 100
}

TEST(Multiplexer, OutOfOrderResponseFailsEveryRequest) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  for (int i = 0; i < 3; ++i) m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(i, 4), "c", true, never);
  const auto requests = broker.read(m.prepare_write(t0));
  m.on_written();
  const request_id later = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(9, 0), "c", true, never);
  frame_reader reader(1 << 20);
  EXPECT_EQ(deliver(reader, m, fake_broker::answer(requests[1])), client_errc::correlation_mismatch);
  EXPECT_TRUE(m.failed());
  const auto done = drain(m);
  ASSERT_EQ(done.size(), 4u);
  for (const auto& c : done) EXPECT_EQ(c.ec, client_errc::correlation_mismatch);
  EXPECT_EQ(done.back().id, later);
  // Later requests and frames fail at once.
  const request_id after = m.enqueue(produce_v9.key, produce_v9.version, {}, "c", true, never);
  const auto more = drain(m);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].id, after);
  EXPECT_EQ(more[0].ec, client_errc::correlation_mismatch);
  EXPECT_EQ(m.on_frame(frame::copy_of(fake_broker::answer(requests[0]))), client_errc::correlation_mismatch);
  EXPECT_TRUE(m.prepare_write(t0).empty());
  EXPECT_EQ(m.pending(), 0u);
}

TEST(Multiplexer, UnknownOrUnsolicitedCorrelationIdFailsTheConnection) {
  {
    multiplexer m(config(5, 1 << 20));
    fake_broker broker;
    m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(1, 0), "c", true, never);
    const auto requests = broker.read(m.prepare_write(t0));
    m.on_written();
    frame_reader reader(1 << 20);
    EXPECT_EQ(deliver(reader, m, fake_broker::answer(requests[0], 999)), client_errc::correlation_mismatch);
    ASSERT_EQ(drain(m).size(), 1u);
  }
  {
    multiplexer m(config(5, 1 << 20));
    seen_request s{produce_v3.key, produce_v3.version, 0, body_with_tag(1, 0)};
    const bytes answer = fake_broker::answer(s);
    EXPECT_EQ(m.on_frame(frame::copy_of(std::span(answer).subspan(4))), client_errc::correlation_mismatch);
    EXPECT_TRUE(m.failed());
  }
  {
    multiplexer m(config(5, 1 << 20));
    EXPECT_EQ(m.on_frame(frame::copy_of(bytes{0, 0})), client_errc::malformed);  // no room for an id
  }
}

TEST(Multiplexer, CancelBeforeWriteRemovesTheRequest) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  const request_id a = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(1, 0), "c", true, never);
  const request_id b = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(2, 0), "c", true, never);
  const request_id c = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(3, 0), "c", true, never);
  EXPECT_EQ(m.cancel(b), cancel_result::removed);
  EXPECT_EQ(m.cancel(b), cancel_result::not_found);
  auto done = drain(m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, b);
  EXPECT_EQ(done[0].ec, canceled);
  EXPECT_EQ(done[0].sent, delivery::not_sent) << "removed before the writer saw it";
  const auto requests = broker.read(m.prepare_write(t0));
  m.on_written();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(tag_of(requests[1].body), 3u);
  frame_reader reader(1 << 20);
  bytes responses = fake_broker::answer(requests[0]);
  const bytes second = fake_broker::answer(requests[1]);
  responses.insert(responses.end(), second.begin(), second.end());
  ASSERT_FALSE(deliver(reader, m, responses));
  done = drain(m);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, a);
  EXPECT_EQ(done[1].id, c);
  EXPECT_EQ(tag_of(done[1].body.bytes()), 3u);
}

TEST(Multiplexer, CancelAfterWriteDropsTheLateResponse) {
  multiplexer m(config(2, 1 << 20));
  fake_broker broker;
  const request_id a = m.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(1, 0), "c", true, never);
  const request_id b = m.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(2, 0), "c", true, never);
  const request_id c = m.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(3, 0), "c", true, never);
  const auto requests = broker.read(m.prepare_write(t0));
  ASSERT_EQ(requests.size(), 2u);
  m.on_written();
  EXPECT_EQ(m.cancel(a), cancel_result::abandoned);
  EXPECT_EQ(m.cancel(a), cancel_result::not_found);
  auto done = drain(m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].ec, canceled);
  EXPECT_EQ(done[0].sent, delivery::maybe_sent) << "written, then abandoned";
  // The abandoned request still holds its in-flight slot until its response is read.
  EXPECT_TRUE(m.prepare_write(t0).empty());
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[0])));
  EXPECT_TRUE(drain(m).empty());  // dropped
  const auto third = broker.read(m.prepare_write(t0));
  ASSERT_EQ(third.size(), 1u);
  m.on_written();
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[1])));
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(third[0])));
  done = drain(m);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, b);
  EXPECT_EQ(tag_of(done[0].body.bytes()), 2u);
  EXPECT_EQ(done[1].id, c);
  EXPECT_EQ(m.cancel(c), cancel_result::not_found);
}

TEST(Multiplexer, CancelWhileStagedAbandons) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  const request_id a = m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(1, 0), "c", true, never);
  const auto buffers = m.prepare_write(t0);
  EXPECT_EQ(m.cancel(a), cancel_result::abandoned);
  const auto requests = broker.read(buffers);  // buffers still valid
  m.on_written();
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[0])));
  const auto done = drain(m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].ec, canceled);
}

TEST(Multiplexer, AcksZeroCompletesOnWrite) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  const request_id a = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(1, 0), "c", true, never);
  const request_id b = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(2, 0), "c", false, never);
  const request_id c = m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(3, 0), "c", true, never);
  const auto requests = broker.read(m.prepare_write(t0));
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(m.in_flight_requests(), 3u);
  EXPECT_TRUE(drain(m).empty());
  m.on_written();
  EXPECT_EQ(m.in_flight_requests(), 2u);
  auto done = drain(m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, b);
  EXPECT_FALSE(done[0].ec);
  EXPECT_TRUE(done[0].body.empty());
  // The broker answers only a and c.
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[0])));
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[2])));
  done = drain(m);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, a);
  EXPECT_EQ(done[1].id, c);
  EXPECT_EQ(m.in_flight_requests(), 0u);
}

TEST(Multiplexer, ResponseMayArriveBeforeTheWriteCompletes) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(1, 0), "c", true, never);
  const auto buffers = m.prepare_write(t0);
  const auto requests = broker.read(buffers);
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[0])));
  EXPECT_EQ(drain(m).size(), 1u);
  EXPECT_TRUE(m.write_outstanding());
  m.on_written();
  EXPECT_FALSE(m.write_outstanding());
  EXPECT_EQ(m.pending(), 0u);
}

TEST(Multiplexer, DeadlineOfAWaitingRequestOnlyFailsThatRequest) {
  multiplexer m(config(1, 1 << 20));
  fake_broker broker;
  const request_id a = m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(1, 0), "c", true, t0 + milliseconds(500));
  const request_id b = m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(2, 0), "c", true, t0 + milliseconds(100));
  m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(3, 0), "c", true, never);
  const auto requests = broker.read(m.prepare_write(t0));  // a only (budget 1)
  m.on_written();
  EXPECT_EQ(m.next_deadline(), t0 + milliseconds(100));
  EXPECT_FALSE(m.expire(t0 + milliseconds(99)));
  EXPECT_TRUE(drain(m).empty());
  EXPECT_FALSE(m.expire(t0 + milliseconds(100)));
  auto done = drain(m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, b);
  EXPECT_EQ(done[0].ec, client_errc::timeout);
  EXPECT_FALSE(m.failed());
  EXPECT_EQ(m.next_deadline(), t0 + milliseconds(500));
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[0])));
  done = drain(m);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, a);
  EXPECT_FALSE(done[0].ec);
  EXPECT_EQ(m.next_deadline(), std::nullopt);  // a's deadline is gone with a
  EXPECT_EQ(broker.read(m.prepare_write(t0)).size(), 1u);
}

TEST(Multiplexer, DeadlineOfAWrittenRequestFailsTheConnection) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  const request_id a = m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(1, 0), "c", true, t0 + milliseconds(100));
  m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(2, 0), "c", true, never);
  broker.read(m.prepare_write(t0));
  m.on_written();
  m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(3, 0), "c", true, never);
  EXPECT_EQ(m.expire(t0 + milliseconds(100)), client_errc::timeout);
  EXPECT_TRUE(m.failed());
  const auto done = drain(m);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].id, a);
  for (const auto& c : done) EXPECT_EQ(c.ec, client_errc::timeout);
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.in_flight_requests(), 0u);
}

TEST(Multiplexer, CorrelationIdsWrapAround) {
  multiplexer_config cfg = config(3, 1 << 20);
  cfg.first_correlation_id = std::numeric_limits<std::int32_t>::max() - 2;
  multiplexer m(cfg);
  fake_broker broker;
  frame_reader reader(1 << 20);
  for (int i = 0; i < 7; ++i) m.enqueue(produce_v9.key, produce_v9.version, body_with_tag(i, 0), "c", true, never);
  std::vector<std::int32_t> seen;
  while (m.pending() != 0) {
    const auto requests = broker.read(m.prepare_write(t0));
    m.on_written();
    for (const auto& s : requests) {
      seen.push_back(s.correlation_id);
      ASSERT_FALSE(deliver(reader, m, fake_broker::answer(s)));
    }
  }
  const std::int32_t max = std::numeric_limits<std::int32_t>::max();
  EXPECT_EQ(seen, (std::vector<std::int32_t>{max - 2, max - 1, max, 0, 1, 2, 3}));
  for (const auto& c : drain(m)) EXPECT_FALSE(c.ec);
}

TEST(Multiplexer, RejectsWhatItCannotFrame) {
  multiplexer m(config(5, 1 << 20));
  const request_id a = m.enqueue(999, 0, {}, "c", true, never);
  const request_id b = m.enqueue(produce_v9.key, 99, {}, "c", true, never);
  const auto done = drain(m);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, a);
  EXPECT_EQ(done[0].ec, client_errc::unknown_api);
  EXPECT_EQ(done[1].id, b);
  EXPECT_EQ(done[1].ec, client_errc::unknown_api);
  EXPECT_FALSE(m.failed());
  EXPECT_EQ(m.pending(), 0u);
}

TEST(Multiplexer, FailAllCompletesEverythingOnceAndKeepsStagedBuffers) {
  multiplexer m(config(2, 1 << 20));
  fake_broker broker;
  for (int i = 0; i < 2; ++i) m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(i, 64), "c", true, never);
  broker.read(m.prepare_write(t0));
  m.on_written();
  const request_id abandoned = 1;
  EXPECT_EQ(m.cancel(abandoned), cancel_result::abandoned);
  m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(5, 64), "c", true, never);
  const auto lost = std::make_error_code(std::errc::connection_reset);
  drain(m);
  m.fail_all(lost);
  const auto done = drain(m);
  ASSERT_EQ(done.size(), 2u);  // not the abandoned one again
  for (const auto& c : done) EXPECT_EQ(c.ec, lost);
  // The written one may have reached the broker; the one still waiting did not.
  EXPECT_EQ(done[0].sent, delivery::maybe_sent);
  EXPECT_EQ(done[1].sent, delivery::not_sent);

  // Staged buffers outlive fail_all until on_written (ASan would catch a dangling one).
  multiplexer s(config(5, 1 << 20));
  s.enqueue(produce_v3.key, produce_v3.version, body_with_tag(7, 1000), "c", true, never);
  const auto buffers = s.prepare_write(t0);
  s.fail_all(lost);
  const auto requests = broker.read(buffers);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(tag_of(requests[0].body), 7u);
  s.on_written();
  EXPECT_EQ(drain(s).size(), 1u);
}

// A gathered request (large records fields left out of the body, written from the owner's
// memory): the frame's size counts them, the buffers interleave them at their offsets, and the
// owner is held exactly until the request is written, or until release_gathered().
TEST(Multiplexer, GatheredRecordsAreWrittenInPlaceAndTheirOwnerHeldUntilWritten) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  // The body as the encoder leaves it: tag, then two holes where 5000 and 3000 bytes go.
  const bytes body = body_with_tag(42, 20);  // 28 bytes
  auto first = std::make_shared<bytes>(5000, 0x11);
  auto second = std::make_shared<bytes>(3000, 0x22);
  auto owner = std::make_shared<int>(0);
  protocol::messages::GatheredRecords g;
  g.segments.push_back({10, *first});
  g.segments.push_back({28, *second});  // at the very end
  m.enqueue(produce_v3.key, produce_v3.version, body, std::move(g), owner, "c", true, never);
  EXPECT_EQ(owner.use_count(), 2);
  const auto buffers = m.prepare_write(t0);
  const auto seen = broker.read(buffers);
  ASSERT_EQ(seen.size(), 1u) << "the frame's size must count the gathered bytes";
  bytes expected(body.begin(), body.begin() + 10);
  expected.insert(expected.end(), first->begin(), first->end());
  expected.insert(expected.end(), body.begin() + 10, body.end());
  expected.insert(expected.end(), second->begin(), second->end());
  EXPECT_EQ(seen[0].body, expected);
  EXPECT_EQ(owner.use_count(), 2) << "held while the write is outstanding";
  m.on_written();
  EXPECT_EQ(owner.use_count(), 1) << "released once written";

  // A staged gathered request of a failed connection keeps its owner until the transport is
  // closed and release_gathered() says so.
  protocol::messages::GatheredRecords g2;
  g2.segments.push_back({8, *first});
  m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(43, 0), std::move(g2), owner, "c", true, never);
  (void)m.prepare_write(t0);
  m.fail_all(std::make_error_code(std::errc::connection_reset));
  EXPECT_EQ(owner.use_count(), 2);
  m.release_gathered();
  EXPECT_EQ(owner.use_count(), 1);
}

TEST(Multiplexer, ThrottleHoldsWrites) {
  multiplexer m(config(5, 1 << 20));
  m.enqueue(produce_v3.key, produce_v3.version, body_with_tag(1, 0), "c", true, never);
  m.throttle_until(t0 + milliseconds(50));
  EXPECT_TRUE(m.prepare_write(t0 + milliseconds(49)).empty());
  EXPECT_FALSE(m.prepare_write(t0 + milliseconds(50)).empty());
}

TEST(Multiplexer, BrokenResponseHeaderFailsOnlyThatRequest) {
  multiplexer m(config(5, 1 << 20));
  fake_broker broker;
  m.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(1, 0), "c", true, never);
  m.enqueue(metadata_v12.key, metadata_v12.version, body_with_tag(2, 0), "c", true, never);
  const auto requests = broker.read(m.prepare_write(t0));
  m.on_written();
  // Correlation id, then a tagged-field section claiming 5 fields with nothing after.
  bytes bad;
  protocol::writer w(bad);
  w.i32(requests[0].correlation_id);
  w.uvarint(5);
  EXPECT_FALSE(m.on_frame(frame::copy_of(bad)));
  frame_reader reader(1 << 20);
  ASSERT_FALSE(deliver(reader, m, fake_broker::answer(requests[1])));
  const auto done = drain(m);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0].ec);
  EXPECT_FALSE(done[1].ec);
}

TEST(Multiplexer, GarbageFailsTheConnectionAndEveryRequestOnce) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    multiplexer m(config(8, 1 << 20));
    fake_broker broker;
    for (int i = 0; i < 5; ++i) m.enqueue(apis[i % 4].key, apis[i % 4].version, body_with_tag(i, 0), "c", i != 2, never);
    broker.read(m.prepare_write(t0));
    m.on_written();
    frame_reader reader(4096, 64);
    bytes garbage(static_cast<std::size_t>(rng() % 64));
    for (auto& b : garbage) b = static_cast<std::uint8_t>(rng());
    const auto ec = deliver(reader, m, garbage);
    if (ec && !m.failed()) m.fail_all(ec);  // what the connection does on a framing error
    std::set<request_id> ids;
    for (const auto& c : drain(m)) EXPECT_TRUE(ids.insert(c.id).second);
    if (m.failed()) {
      EXPECT_EQ(ids.size(), 5u);
      EXPECT_EQ(m.pending(), 0u);
    }
  }
}

// Random interleavings of enqueue, write, partial reads, cancel and expire, with
// reconnects after failures. Every request completes exactly once; successful ones carry
// their own echoed tag; budgets always hold.
TEST(Multiplexer, RandomizedInterleavingsCompleteEveryRequestOnce) {
  std::mt19937_64 rng(20240611);
  auto coin = [&](unsigned percent) { return rng() % 100 < percent; };
  std::size_t total = 0, succeeded = 0, failures = 0;
  for (int connection = 0; connection < 150; ++connection) {
    const auto cfg = config(1 + rng() % 8, 200 + rng() % 4000);
    multiplexer m(cfg);
    frame_reader reader(1 << 16, 32);
    fake_broker broker;
    bytes wire;  // responses not yet delivered
    std::map<request_id, std::uint64_t> tags;
    std::map<request_id, bool> expects;
    std::map<std::uint64_t, bool> expects_tag;  // what the broker knows: acks=0 gets no answer
    std::set<request_id> completed;
    time_point now = t0;
    bool write_outstanding = false;
    std::span<const std::span<const std::uint8_t>> buffers;
    std::uint64_t next_tag = 1;
    auto check = [&](std::vector<completion> done) {
      for (auto& c : done) {
        ASSERT_TRUE(tags.count(c.id));
        ASSERT_TRUE(completed.insert(c.id).second) << "completed twice: " << c.id;
        if (!c.ec) {
          ++succeeded;
          if (expects[c.id]) {
            ASSERT_EQ(c.body.size(), 12u);
            EXPECT_EQ(tag_of(c.body.bytes()), tags[c.id]);
          } else {
            EXPECT_TRUE(c.body.empty());
          }
        } else {
          ++failures;
        }
      }
    };
    for (int step = 0; step < 600 && !m.failed(); ++step) {
      const auto op = rng() % 100;
      if (op < 30) {
        const api a = apis[rng() % 4];
        const bool expect = !coin(10);
        const time_point deadline = coin(30) ? now + milliseconds(1 + rng() % 1500) : never;
        const std::uint64_t tag = next_tag++;
        const request_id id = m.enqueue(a.key, a.version, body_with_tag(tag, rng() % 400), "rnd", expect, deadline);
        tags[id] = tag;
        expects[id] = expect;
        expects_tag[tag] = expect;
        ++total;
      } else if (op < 50) {
        if (!write_outstanding) {
          buffers = m.prepare_write(now);
          write_outstanding = !buffers.empty();
          EXPECT_LE(m.in_flight_requests(), cfg.max_in_flight_requests);
          EXPECT_TRUE(m.in_flight_bytes() <= cfg.max_in_flight_bytes || m.in_flight_requests() == 1);
        } else {
          // The write completes; the broker reads it and queues answers.
          for (const auto& s : broker.read(buffers)) {
            if (expects_tag[tag_of(s.body)]) {
              const bytes r = fake_broker::answer(s);
              wire.insert(wire.end(), r.begin(), r.end());
            }
          }
          m.on_written();
          write_outstanding = false;
        }
      } else if (op < 75) {
        const std::size_t n = std::min<std::size_t>(wire.size(), rng() % 64);
        ASSERT_FALSE(deliver(reader, m, std::span(wire).first(n)));
        wire.erase(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
      } else if (op < 85) {
        if (!tags.empty()) {
          const request_id id = 1 + rng() % tags.size();
          m.cancel(id);
        }
      } else if (op < 95) {
        now += milliseconds(rng() % 40);
        m.expire(now);
        if (auto d = m.next_deadline()) {
          EXPECT_GT(*d, now);
        }
      } else if (coin(5)) {
        m.fail_all(std::make_error_code(std::errc::connection_reset));
      }
      check(drain(m));
      EXPECT_EQ(m.pending(), tags.size() - completed.size());
    }
    if (!m.failed()) {
      // Drain: finish the write, deliver everything, then send and answer the rest.
      for (int round = 0; round < 10000 && m.pending() != 0; ++round) {
        if (write_outstanding) {
          for (const auto& s : broker.read(buffers)) {
            if (expects_tag[tag_of(s.body)]) {
              const bytes r = fake_broker::answer(s);
              wire.insert(wire.end(), r.begin(), r.end());
            }
          }
          m.on_written();
          write_outstanding = false;
        }
        ASSERT_FALSE(deliver(reader, m, wire));
        wire.clear();
        buffers = m.prepare_write(time_point::max());
        write_outstanding = !buffers.empty();
        check(drain(m));
      }
    } else if (write_outstanding) {
      broker.read(buffers);  // still readable after failure
      m.on_written();
    }
    check(drain(m));
    EXPECT_EQ(m.pending(), 0u);
    EXPECT_EQ(completed.size(), tags.size());
    EXPECT_EQ(m.in_flight_requests(), 0u);
    EXPECT_EQ(m.in_flight_bytes(), 0u);
  }
  std::printf("randomized: %zu requests, %zu succeeded, %zu failed\n", total, succeeded, failures);
  EXPECT_GT(total, 3000u);
  EXPECT_GT(succeeded, total / 3);
  EXPECT_GT(failures, 0u);
}

}  // namespace
}  // namespace asiokafka::net
