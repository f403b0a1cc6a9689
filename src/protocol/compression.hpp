// Per-batch compression codecs of Kafka: gzip, snappy, lz4 (frame format) and zstd. Sans-I/O.
//
// Decompression is always bounded: the output grows geometrically from a size derived from the
// input, never from a size announced inside the compressed data, and stops with
// client_errc::decompressed_too_large as soon as it would exceed `max_output`.
// Errors: unsupported_compression (unknown codec), corrupt_record (input the codec rejects or
// that ends early), decompressed_too_large, compression_failed (the library failed on input we
// produced, e.g. out of memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "asiokafka/buffer.hpp"
#include "asiokafka/protocol/records.hpp"
#include "protocol/byte_buffer.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::protocol {

/// Compresses `in` with `codec` and appends the result to `out`. `level` is the codec's own
/// scale (gzip 1..9, lz4 1..12, zstd -7..22); nullopt picks the library default. Snappy has no
/// levels and ignores it. `none` appends `in` unchanged.
std::error_code compress(CompressionType codec, std::span<const std::uint8_t> in, bytes& out,
                         std::optional<int> level = std::nullopt);
/// As above, into a buffer that is not zero-filled first (the record batch builder's scratch:
/// zeroing a megabyte of output room per batch showed in the producer's profile).
std::error_code compress(CompressionType codec, std::span<const std::uint8_t> in, byte_buffer& out,
                         std::optional<int> level = std::nullopt);

/// Decompresses `in` and appends the result to `out`, producing at most `max_output` bytes.
/// gzip accepts gzip and zlib framing (and concatenated gzip members); snappy accepts raw
/// snappy and the xerial framing of the Java client; lz4 accepts the LZ4 frame format.
/// On error `out` is left as it was.
std::error_code decompress(CompressionType codec, std::span<const std::uint8_t> in, bytes& out,
                           std::size_t max_output);

/// As above (same formats, bounds and errors), into reference-counted storage: the output is
/// bytes [0, out_size) of `out`. `out` is reused in place when this handle is its only owner
/// and it is big enough; otherwise `out` is replaced by a new buffer (other owners keep the old
/// one and its bytes unchanged). A buffer with other owners is never written to. On error
/// out_size is 0 and `out` holds no output (it may have been replaced).
std::error_code decompress(CompressionType codec, std::span<const std::uint8_t> in, shared_buffer& out,
                           std::size_t& out_size, std::size_t max_output);

/// The LZ4 frames written by Kafka 0.8/0.9 for magic 0 messages carry a header checksum
/// computed over the wrong bytes (KAFKA-1493). Returns a copy of `frame` with a correct
/// header checksum, or an empty vector when `frame` does not start with an LZ4 frame header.
bytes repair_legacy_lz4_header(std::span<const std::uint8_t> frame);

}  // namespace asiokafka::protocol
