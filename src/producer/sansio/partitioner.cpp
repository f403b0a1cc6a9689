#include "producer/sansio/partitioner.hpp"

#include <algorithm>

namespace asiokafka::producer {

std::uint32_t murmur2(std::span<const std::uint8_t> data) noexcept {
  constexpr std::uint32_t seed = 0x9747b28cU;
  constexpr std::uint32_t m = 0x5bd1e995U;
  constexpr int r = 24;

  // Java mixes the length in as an int: keys are far below 2^31 bytes, so the truncation to
  // 32 bits is the same as Java's.
  const auto length = static_cast<std::uint32_t>(data.size());
  std::uint32_t h = seed ^ length;

  const std::size_t blocks = data.size() / 4;
  const std::uint8_t* p = data.data();
  for (std::size_t i = 0; i < blocks; ++i, p += 4) {
    // Little-endian whatever the host order, as Java reads the bytes.
    std::uint32_t k = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                      static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }

  // The last 1-3 bytes; only then is h multiplied once more.
  switch (data.size() % 4) {
    case 3:
      h ^= static_cast<std::uint32_t>(p[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint32_t>(p[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint32_t>(p[0]);
      h *= m;
      break;
    default:
      break;
  }

  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

std::int32_t partition_for_key(std::span<const std::uint8_t> key, std::int32_t partition_count) noexcept {
  if (partition_count <= 0) return -1;
  // Java's toPositive: clear the sign bit (not abs, which would fold two hashes together).
  const std::uint32_t positive = murmur2(key) & 0x7fffffffU;
  return static_cast<std::int32_t>(positive % static_cast<std::uint32_t>(partition_count));
}

namespace {

/// Whether `partition` may stay current: see the class comment.
bool still_valid(std::int32_t partition, std::span<const std::int32_t> available, std::int32_t partition_count) {
  if (partition < 0 || partition >= partition_count) return false;
  return available.empty() || std::binary_search(available.begin(), available.end(), partition);
}

}  // namespace

std::int32_t sticky_partitioner::partition(std::string_view topic, std::span<const std::int32_t> available,
                                           std::int32_t partition_count) {
  if (partition_count <= 0) return -1;
  auto it = current_.find(topic);
  if (it == current_.end()) it = current_.emplace(std::string{topic}, -1).first;
  return partition(it->second, available, partition_count);
}

void sticky_partitioner::on_new_batch(std::string_view topic, std::int32_t previous_partition,
                                      std::span<const std::int32_t> available, std::int32_t partition_count) {
  if (partition_count <= 0) return;
  auto it = current_.find(topic);
  if (it == current_.end()) it = current_.emplace(std::string{topic}, -1).first;
  // Several batches may close for the same sticky partition (one per send, or a late call
  // after a switch): only the first moves the topic on, so a burst does not skip partitions.
  on_new_batch(it->second, previous_partition, available, partition_count);
}

std::int32_t sticky_partitioner::partition(std::int32_t& current, std::span<const std::int32_t> available,
                                           std::int32_t partition_count) noexcept {
  if (partition_count <= 0) return -1;
  if (current < 0 || !still_valid(current, available, partition_count)) current = pick(available, partition_count, current);
  return current;
}

void sticky_partitioner::on_new_batch(std::int32_t& current, std::int32_t previous_partition,
                                      std::span<const std::int32_t> available, std::int32_t partition_count) noexcept {
  if (partition_count <= 0) return;
  if (current >= 0 && current != previous_partition) return;  // another close already moved it on
  current = pick(available, partition_count, previous_partition);
}

void sticky_partitioner::forget(std::string_view topic) {
  const auto it = current_.find(topic);
  if (it != current_.end()) current_.erase(it);
}

std::int32_t sticky_partitioner::current(std::string_view topic) const {
  const auto it = current_.find(topic);
  return it == current_.end() ? -1 : it->second;
}

std::int32_t sticky_partitioner::pick(std::span<const std::int32_t> available, std::int32_t partition_count,
                                      std::int32_t avoid) noexcept {
  // Draw among the n candidates but `avoid`: n - 1 slots, the ones from avoid's index on
  // shifted by one. One draw, no retry loop, and uniform over the others.
  if (!available.empty()) {
    const auto n = static_cast<std::uint32_t>(available.size());
    const auto at = std::lower_bound(available.begin(), available.end(), avoid);
    if (n >= 2 && at != available.end() && *at == avoid) {
      const auto skip = static_cast<std::uint32_t>(at - available.begin());
      std::uint32_t i = below(n - 1);
      if (i >= skip) ++i;
      return available[i];
    }
    return available[below(n)];
  }
  const auto n = static_cast<std::uint32_t>(partition_count);
  if (n >= 2 && avoid >= 0 && avoid < partition_count) {
    std::uint32_t i = below(n - 1);
    if (i >= static_cast<std::uint32_t>(avoid)) ++i;
    return static_cast<std::int32_t>(i);
  }
  return static_cast<std::int32_t>(below(n));
}

std::uint32_t sticky_partitioner::below(std::uint32_t n) noexcept {
  // splitmix64: any seed, zero included, gives a full-period, well-mixed sequence.
  state_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  // Scale the high 32 bits to [0, n) by multiplication: no division, and the bias (below
  // n / 2^32) is irrelevant for choosing a partition.
  return static_cast<std::uint32_t>(((z >> 32) * n) >> 32);
}

}  // namespace asiokafka::producer
