// ProducerConfig validation and the shared options it carries (producer_config.hpp).
//
// The rules are the Java client's (ProducerConfig and KIP-390's level ranges) where it has
// them, so a configuration moved from Java or librdkafka fails here for the same reasons; the
// level ranges are what src/protocol/compression.cpp passes to each library unchanged (it
// clamps anything outside them, which would silently change the level asked for).
#include <chrono>
#include <string>
#include <string_view>

#include "asiokafka/error.hpp"
#include "asiokafka/producer_config.hpp"

namespace asiokafka {

namespace {

using protocol::CompressionType;

// Level ranges each codec applies as given. zstd's are ZSTD_minCLevel()..ZSTD_maxCLevel() of
// libzstd 1.5 (the producer layer does not link the codec libraries; producer_config_test
// compares these with the library's at run time).
constexpr int gzip_min_level = 1, gzip_max_level = 9;
constexpr int lz4_min_level = 1, lz4_max_level = 12;
constexpr int zstd_min_level = -131072, zstd_max_level = 22;

[[noreturn]] void bad_config(const std::string& what) { throw error(client_errc::invalid_config, what); }

std::string ms(std::chrono::milliseconds v) { return std::to_string(v.count()) + " ms"; }
std::string bytes(std::size_t v) { return std::to_string(v) + " bytes"; }

std::string acks_name(Acks a) {
  switch (a) {
    case Acks::none: return "0";
    case Acks::leader: return "1";
    case Acks::all: return "all";
  }
  return std::to_string(static_cast<int>(a));
}

const char* codec_name(CompressionType c) {
  switch (c) {
    case CompressionType::none: return "none";
    case CompressionType::gzip: return "gzip";
    case CompressionType::snappy: return "snappy";
    case CompressionType::lz4: return "lz4";
    case CompressionType::zstd: return "zstd";
  }
  return nullptr;
}

void validate_shared(const ProducerConfig& c) { detail::validate_shared_as(client_config_of(c), "ProducerConfig"); }

void validate_compression(const ProducerConfig& c) {
  const char* codec = codec_name(c.compression_type);
  if (codec == nullptr) {
    bad_config("ProducerConfig.compression_type has the unknown value " +
               std::to_string(static_cast<int>(c.compression_type)) + " (expected none, gzip, snappy, lz4 or zstd)");
  }
  if (!c.compression_level) return;
  const int level = *c.compression_level;
  auto in_range = [&](int lo, int hi) {
    if (level < lo || level > hi) {
      bad_config("ProducerConfig.compression_level " + std::to_string(level) + " is out of range for compression_type " +
                 codec + " (expected " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
    }
  };
  switch (c.compression_type) {
    case CompressionType::gzip: in_range(gzip_min_level, gzip_max_level); break;
    case CompressionType::lz4: in_range(lz4_min_level, lz4_max_level); break;
    case CompressionType::zstd: in_range(zstd_min_level, zstd_max_level); break;
    case CompressionType::none:
    case CompressionType::snappy:
      bad_config("ProducerConfig.compression_level is " + std::to_string(level) + " but compression_type " + codec +
                 " takes no level (leave it unset)");
  }
}

}  // namespace

ClientConfig client_config_of(const ProducerConfig& c) { return detail::shared_client_config(c); }

void validate(const ProducerConfig& c) {
  validate_shared(c);

  if (c.transactional_id) {
    bad_config("ProducerConfig.transactional_id is set, but transactions are not supported yet (leave it unset)");
  }

  auto non_negative = [](const char* name, std::chrono::milliseconds v) {
    if (v.count() < 0) bad_config(std::string("ProducerConfig.") + name + " must be >= 0 (got " + ms(v) + ")");
  };
  non_negative("linger", c.linger);
  non_negative("max_block", c.max_block);
  non_negative("delivery_timeout", c.delivery_timeout);

  if (c.acks != Acks::none && c.acks != Acks::leader && c.acks != Acks::all) {
    bad_config("ProducerConfig.acks has the unknown value " + acks_name(c.acks) + " (expected 0, 1 or all)");
  }
  validate_compression(c);

  if (c.max_batch_size == 0) bad_config("ProducerConfig.max_batch_size must be > 0");
  if (c.max_batch_size > c.max_request_size) {
    bad_config("ProducerConfig.max_batch_size (" + bytes(c.max_batch_size) + ") is larger than max_request_size (" +
               bytes(c.max_request_size) + ")");
  }
  if (c.buffer_memory < c.max_batch_size) {
    bad_config("ProducerConfig.buffer_memory (" + bytes(c.buffer_memory) + ") is smaller than max_batch_size (" +
               bytes(c.max_batch_size) + ")");
  }

  if (c.enable_idempotence && c.acks != Acks::all) {
    bad_config("ProducerConfig.enable_idempotence requires acks=all (got acks=" + acks_name(c.acks) +
               "); set acks = Acks::all or enable_idempotence = false");
  }
  if (c.enable_idempotence && c.max_in_flight_requests_per_connection > 5) {
    bad_config("ProducerConfig.enable_idempotence allows at most 5 max_in_flight_requests_per_connection (got " +
               std::to_string(c.max_in_flight_requests_per_connection) + ")");
  }

  // Both are >= 0 here and request_timeout > 0, so the subtraction cannot overflow where the
  // sum could (a duration of milliseconds::max() is a plausible "forever").
  if (c.delivery_timeout - c.request_timeout < c.linger) {
    bad_config("ProducerConfig.delivery_timeout (" + ms(c.delivery_timeout) + ") must be >= linger (" + ms(c.linger) +
               ") + request_timeout (" + ms(c.request_timeout) + ")");
  }
}

}  // namespace asiokafka
