// Fuzzes the connection's read path: net::frame_reader splitting arbitrary bytes into frames
// and net::multiplexer matching them against a few pending requests.
//
// Input: byte 0: bits 0-2 number of requests - 1, bits 3-5 max frame size selector
// (16 << n), bits 6-7 in-flight request budget - 1 ... 4 (then capped by the count).
// Then one byte per request: bits 0-1 API (ApiVersions v3, Metadata v12, Produce v3,
// Produce v9: all four header combinations), bit 2 no response (acks=0), bit 3 cancel after
// the first write. The rest is chunks: a length byte L, then L bytes fed to the reader; a
// length byte of 0xff instead writes once more (and expires, when the next byte is odd).
// Checks: frames lie inside their storage and have >= 4 bytes; reader errors are sticky;
// every request completes exactly once (at the latest at the final fail_all); a failed
// multiplexer has nothing in flight; the pending count matches the completions.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "net/sansio/frame_reader.hpp"
#include "net/sansio/multiplexer.hpp"

namespace {

using asiokafka::fuzz::inside;
using namespace asiokafka::net;

struct api {
  std::int16_t key;
  std::int16_t version;
};
constexpr api apis[] = {{18, 3}, {3, 12}, {0, 3}, {0, 9}};

struct harness {
  multiplexer mux;
  std::set<request_id> open;  // enqueued, not completed
  std::size_t enqueued = 0;

  explicit harness(const multiplexer_config& cfg) : mux(cfg) {}

  void collect() {
    while (auto c = mux.next_completion()) {
      FUZZ_CHECK(open.erase(c->id) == 1);  // exactly once
      if (c->ec) FUZZ_CHECK(c->body.empty());
    }
    FUZZ_CHECK(mux.pending() == open.size());
    if (mux.failed()) {
      FUZZ_CHECK(open.empty());
      FUZZ_CHECK(mux.in_flight_requests() == 0 && mux.in_flight_bytes() == 0);
    }
  }

  void write_once(time_point now) {
    const auto buffers = mux.prepare_write(now);
    for (auto b : buffers) FUZZ_CHECK(!b.empty());
    if (!buffers.empty()) mux.on_written();
    collect();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  if (in.empty()) return 0;
  const std::uint8_t setup = in[0];
  in = in.subspan(1);
  const std::size_t requests = (setup & 7u) + 1;
  const std::size_t max_frame = std::size_t{16} << ((setup >> 3) & 7u);

  multiplexer_config cfg;
  cfg.max_in_flight_requests = ((setup >> 6) & 3u) + 1;
  harness h(cfg);
  const time_point t0{};
  std::vector<request_id> cancel_later;
  for (std::size_t i = 0; i < requests && !in.empty(); ++i) {
    const std::uint8_t spec = in[0];
    in = in.subspan(1);
    const api a = apis[spec & 3u];
    const auto deadline = t0 + std::chrono::milliseconds(1 + spec);
    const request_id id = h.mux.enqueue(a.key, a.version, std::vector<std::uint8_t>(spec % 7, spec), "fuzz",
                                        (spec & 4u) == 0, deadline);
    h.open.insert(id);
    if (spec & 8u) cancel_later.push_back(id);
  }
  h.collect();
  h.write_once(t0);
  for (request_id id : cancel_later) h.mux.cancel(id);
  h.collect();

  frame_reader reader(max_frame, 16);
  std::error_code first_error;
  while (!in.empty()) {
    const std::uint8_t len = in[0];
    in = in.subspan(1);
    if (len == 0xff) {
      h.write_once(t0);
      if (!in.empty() && (in[0] & 1u)) {
        h.mux.expire(t0 + std::chrono::milliseconds(in[0]));
        h.collect();
      }
      continue;
    }
    const auto chunk = in.first(std::min<std::size_t>(len, in.size()));
    in = in.subspan(chunk.size());
    reader.feed(chunk);
    std::error_code ec;
    while (auto f = reader.next(ec)) {
      FUZZ_CHECK(f->size() >= 4 && f->size() <= max_frame);
      FUZZ_CHECK(inside({f->storage().data(), f->storage().capacity()}, f->bytes()));
      h.mux.on_frame(*f);
      h.collect();
    }
    if (ec) {
      FUZZ_CHECK(!first_error || ec == first_error);
      first_error = ec;
      FUZZ_CHECK(reader.failed() && reader.prepare().empty());
      h.mux.fail_all(ec);  // what the connection does on a framing error
      h.collect();
    }
  }
  h.mux.fail_all(std::make_error_code(std::errc::connection_reset));
  h.collect();
  FUZZ_CHECK(h.open.empty());
  if (h.mux.write_outstanding()) h.mux.on_written();
  return 0;
}
