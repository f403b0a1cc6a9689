// Seeds of the frame_reader target (fuzz/corpus/frame_reader); the layout is described in
// fuzz/frame_reader.cpp: a setup byte (request count, max frame size, in-flight budget), one
// byte per request (API: 0 ApiVersions v3, 1 Metadata v12, 2 Produce v3, 3 Produce v9; bit 2
// no response, bit 3 cancel after the first write), then chunks (a length byte and that many
// bytes; 0xff writes again and expires when the next byte is odd).
// The response frames carry the bodies a real broker sent for exactly those four API versions
// (tests/data/codec/broker_*.hex) behind the right response header; the seeds cover responses
// split at every size, several frames per chunk, budget-limited writes, acks=0, abandoned
// requests, deadlines, and each way a stream goes wrong (correlation mismatch, oversized and
// negative frame sizes, a broken header tail, a connection closed mid-frame).
#include <cstdint>

#include "corpus.hpp"

namespace asiokafka::corpus {
namespace {

enum api : std::uint8_t { api_versions_v3 = 0, metadata_v12 = 1, produce_v3 = 2, produce_v9 = 3 };
constexpr std::uint8_t no_response = 4, cancel_after_write = 8;

// setup byte: requests 1..8, max frame 16 << size_sel, in-flight budget 1..4
std::uint8_t setup(std::size_t requests, unsigned size_sel, unsigned in_flight) {
  return static_cast<std::uint8_t>((requests - 1) | size_sel << 3 | (in_flight - 1) << 6);
}

class script {
 public:
  script(std::uint8_t setup_byte, std::initializer_list<std::uint8_t> requests) {
    in_.push_back(setup_byte);
    in_.insert(in_.end(), requests);
  }
  /// Feeds `data` in chunks of at most `chunk` bytes (<= 254).
  script& feed(std::span<const std::uint8_t> data, std::size_t chunk = 254) {
    for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
      const std::size_t n = std::min(chunk, data.size() - pos);
      in_.push_back(static_cast<std::uint8_t>(n));
      append(in_, data.subspan(pos, n));
    }
    return *this;
  }
  /// Writes what waits (0xff). The fuzz target then expires deadlines up to N ms when the
  /// next byte N is odd: an empty chunk (0) follows so that nothing expires.
  script& write_again() {
    in_.insert(in_.end(), {0xff, 0x00});
    return *this;
  }
  /// Writes what waits and expires every deadline up to 255 ms (0xff is odd), twice.
  script& write_and_expire() {
    in_.insert(in_.end(), {0xff, 0xff});
    return *this;
  }
  /// Writes what waits; the next chunk's length (odd to expire) follows.
  script& write_then(std::span<const std::uint8_t> chunk) {
    in_.push_back(0xff);
    return feed(chunk);
  }
  const bytes& data() const { return in_; }

 private:
  bytes in_;
};

struct bodies {
  bytes api_versions, metadata, produce3, produce9;
  const bytes& of(api a) const {
    switch (a) {
      case api_versions_v3: return api_versions;
      case metadata_v12: return metadata;
      case produce_v3: return produce3;
      default: return produce9;
    }
  }
};

// Size, correlation id, header tagged fields when the response header is flexible (v1;
// ApiVersions always answers with header v0), body.
bytes frame(api a, std::int32_t correlation_id, std::span<const std::uint8_t> body) {
  const bool flexible_header = a == metadata_v12 || a == produce_v9;
  const std::size_t size = 4 + (flexible_header ? 1 : 0) + body.size();
  bytes out;
  for (const std::uint32_t v : {static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(correlation_id)}) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  }
  if (flexible_header) out.push_back(0);
  append(out, body);
  return out;
}

}  // namespace

void make_frame_reader_seeds(const inputs& in, target_dir& out) {
  const auto capture = [&](const char* f) { return from_hex(read_file(in.data_dir / "codec" / f)); };
  const bodies b{capture("broker_api_versions_v3.hex"), capture("broker_metadata_v12.hex"),
                 capture("broker_produce_v3.hex"), capture("broker_produce_v9.hex")};
  const auto resp = [&](api a, std::int32_t id) { return frame(a, id, b.of(a)); };
  const unsigned big = 7;  // 2048-byte frames: room for every captured response

  {  // One request of each API, answered in order, each frame in one piece where it fits.
    script s(setup(4, big, 4), {api_versions_v3, metadata_v12, produce_v3, produce_v9});
    for (int i = 0; i < 4; ++i) s.feed(resp(static_cast<api>(i), i));
    out.add("four-apis-in-order", s.data());
  }
  for (const api a : {api_versions_v3, metadata_v12, produce_v3, produce_v9}) {
    script s(setup(1, big, 1), {a});
    s.feed(resp(a, 0), 1);
    out.add("one-byte-chunks-api" + std::to_string(a), s.data());
  }
  {  // Two frames in one chunk, then a chunk boundary inside the size prefix.
    bytes two = resp(produce_v3, 0);
    append(two, resp(produce_v3, 1));
    const bytes third = resp(produce_v9, 2);
    script s(setup(3, big, 4), {produce_v3, produce_v3, produce_v9});
    s.feed(two).feed(std::span(third).first(2)).feed(std::span(third).subspan(2));
    out.add("frames-sharing-chunks", s.data());
  }
  {  // In-flight budget 1: each response frees the slot for the next write.
    script s(setup(3, big, 1), {metadata_v12, produce_v9, metadata_v12});
    s.feed(resp(metadata_v12, 0)).write_again().feed(resp(produce_v9, 1)).write_again().feed(resp(metadata_v12, 2));
    out.add("budget-one-write-again", s.data());
  }
  {  // acks=0: the Produce completes on write and takes no response; the next one does.
    script s(setup(2, big, 2), {produce_v3 | no_response, metadata_v12});
    s.feed(resp(metadata_v12, 1));
    out.add("acks0-then-metadata", s.data());
  }
  {  // Cancelled after the write: its response is still read, then dropped.
    script s(setup(2, big, 2), {produce_v9 | cancel_after_write, produce_v9});
    s.feed(resp(produce_v9, 0)).feed(resp(produce_v9, 1));
    out.add("abandoned-then-answered", s.data());
  }
  {  // The deadline of a written request passes: the connection fails with a timeout.
    script s(setup(2, big, 2), {metadata_v12, metadata_v12});
    s.feed(resp(metadata_v12, 0)).write_and_expire();
    out.add("written-request-expires", s.data());
  }
  {  // Budget 1: the second request waits and its deadline (3 ms) passes at 5 ms, before the
     // first one's (243 ms); the first one is answered after that.
    const bytes r = resp(produce_v3, 0);
    script s(setup(2, big, 1), {produce_v3 | 0xf0, produce_v3});
    s.write_then(std::span(r).first(5)).feed(std::span(r).subspan(5));
    out.add("waiting-request-expires", s.data());
  }
  {  // Eight requests, budget 4: writes in two rounds, answers in order.
    script s(setup(8, big, 4), {0, 1, 2, 3, 0, 1, 2, 3});
    for (int i = 0; i < 4; ++i) s.feed(resp(static_cast<api>(i), i));
    s.write_again();
    for (int i = 4; i < 8; ++i) s.feed(resp(static_cast<api>(i % 4), i));
    out.add("eight-requests-two-rounds", s.data());
  }
  {  // Answers out of order: correlation mismatch fails everything.
    script s(setup(2, big, 2), {produce_v3, produce_v3});
    s.feed(resp(produce_v3, 1)).feed(resp(produce_v3, 0));
    out.add("out-of-order", s.data());
  }
  {  // A response nobody asked for.
    script s(setup(1, big, 1), {produce_v3 | no_response});
    s.feed(resp(produce_v3, 0));
    out.add("unsolicited-response", s.data());
  }
  {  // The ApiVersions response does not fit 64-byte frames.
    script s(setup(1, 2, 1), {api_versions_v3});
    s.feed(resp(api_versions_v3, 0));
    out.add("frame-too-large", s.data());
  }
  {  // A negative size prefix, and a frame too short for a correlation id.
    script s(setup(1, big, 1), {metadata_v12});
    s.feed(bytes{0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0});
    out.add("negative-frame-size", s.data());
    script t(setup(1, big, 1), {metadata_v12});
    t.feed(bytes{0, 0, 0, 2, 0, 0});
    out.add("frame-shorter-than-header", t.data());
  }
  {  // A flexible response header whose tagged fields run past the frame.
    script s(setup(1, big, 1), {metadata_v12});
    s.feed(bytes{0, 0, 0, 6, 0, 0, 0, 0, 3, 1});
    out.add("broken-header-tags", s.data());
  }
  {  // The connection closes in the middle of a frame.
    const bytes r = resp(metadata_v12, 0);
    script s(setup(1, big, 1), {metadata_v12});
    s.feed(std::span(r).first(r.size() / 2));
    out.add("closed-mid-frame", s.data());
  }
}

}  // namespace asiokafka::corpus
