// Fuzzes every generated message type directly: whatever decodes must encode again, and the
// encoding must decode to an equal message and re-encode to the same bytes. A failed decode
// leaves the message untouched (the documented contract).
// Input: byte 0 picks the type (bit 7: request, else response; the rest indexes the API list
// below), byte 1 the version (one below the lowest to one above the highest), then the body.
//
// The list mirrors the generated dispatcher (src/protocol/generated/dispatch.cpp); when the
// generator adds an API, add its name here.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "asiokafka/protocol/messages.hpp"
#include "fuzz_check.hpp"

namespace m = asiokafka::protocol::messages;

#define ASIOKAFKA_FUZZ_APIS(X)                                                                     \
  X(Produce) X(Fetch) X(ListOffsets) X(Metadata) X(OffsetCommit) X(OffsetFetch) X(FindCoordinator) \
  X(JoinGroup) X(Heartbeat) X(LeaveGroup) X(SyncGroup) X(DescribeGroups) X(ListGroups)             \
  X(SaslHandshake) X(ApiVersions) X(CreateTopics) X(DeleteTopics) X(DeleteRecords)                 \
  X(InitProducerId) X(OffsetForLeaderEpoch) X(AddPartitionsToTxn) X(AddOffsetsToTxn) X(EndTxn)     \
  X(TxnOffsetCommit) X(DescribeAcls) X(CreateAcls) X(DeleteAcls) X(DescribeConfigs)                \
  X(AlterConfigs) X(SaslAuthenticate) X(CreatePartitions) X(DeleteGroups)                          \
  X(IncrementalAlterConfigs) X(OffsetDelete) X(DescribeCluster) X(DescribeProducers)               \
  X(DescribeTransactions) X(ListTransactions) X(ConsumerGroupHeartbeat) X(ConsumerGroupDescribe)

#define ASIOKAFKA_FUZZ_REQUEST(name) m::name##Request,
#define ASIOKAFKA_FUZZ_RESPONSE(name) m::name##Response,

namespace {

struct end_marker {};
using requests = std::tuple<ASIOKAFKA_FUZZ_APIS(ASIOKAFKA_FUZZ_REQUEST) end_marker>;
using responses = std::tuple<ASIOKAFKA_FUZZ_APIS(ASIOKAFKA_FUZZ_RESPONSE) end_marker>;
constexpr std::size_t api_count = std::tuple_size_v<requests> - 1;

template <class M>
void round_trip(std::uint8_t version_byte, std::span<const std::uint8_t> body) {
  const int span = M::max_version - M::min_version + 3;
  const auto version = static_cast<std::int16_t>(M::min_version - 1 + version_byte % span);

  M decoded;
  if (decoded.decode(body, version)) {
    FUZZ_CHECK(decoded == M{});  // unchanged on error
    return;
  }
  FUZZ_CHECK(version >= M::min_version && version <= M::max_version);

  std::vector<std::uint8_t> first;
  FUZZ_CHECK(!decoded.encode(first, version));
  M again;
  FUZZ_CHECK(!again.decode(first, version));
  FUZZ_CHECK(again == decoded);
  std::vector<std::uint8_t> second;
  FUZZ_CHECK(!again.encode(second, version));
  FUZZ_CHECK(second == first);
}

template <class Tuple, std::size_t... I>
void dispatch(std::size_t index, std::uint8_t version_byte, std::span<const std::uint8_t> body,
              std::index_sequence<I...>) {
  ((I == index ? round_trip<std::tuple_element_t<I, Tuple>>(version_byte, body) : void()), ...);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return -1;
  const std::size_t index = (data[0] & 0x7fu) % api_count;
  const std::span<const std::uint8_t> body(data + 2, size - 2);
  if (data[0] & 0x80) {
    dispatch<requests>(index, data[1], body, std::make_index_sequence<api_count>{});
  } else {
    dispatch<responses>(index, data[1], body, std::make_index_sequence<api_count>{});
  }
  return 0;
}
