// The generated message types, as type lists in the order of protocol::supported_apis: index i
// of `request_types`, `response_types` and supported_apis is the same API. Shared by the
// message fuzz targets and the corpus generator (tools/fuzz), which all address an API by that
// index. When the code generator adds an API, add its name to the list: the static_assert below
// fails until the lists and supported_apis agree.
#pragma once

#include <cstddef>
#include <iterator>
#include <tuple>
#include <utility>

#include "asiokafka/protocol/messages.hpp"

#define ASIOKAFKA_FUZZ_APIS(X)                                                                     \
  X(Produce) X(Fetch) X(ListOffsets) X(Metadata) X(OffsetCommit) X(OffsetFetch)                    \
  X(FindCoordinator) X(JoinGroup) X(Heartbeat) X(LeaveGroup) X(SyncGroup) X(DescribeGroups)        \
  X(ListGroups) X(SaslHandshake) X(ApiVersions) X(CreateTopics) X(DeleteTopics) X(DeleteRecords)   \
  X(InitProducerId) X(OffsetForLeaderEpoch) X(AddPartitionsToTxn) X(AddOffsetsToTxn) X(EndTxn)     \
  X(WriteTxnMarkers) X(TxnOffsetCommit) X(DescribeAcls) X(CreateAcls) X(DeleteAcls)                \
  X(DescribeConfigs) X(AlterConfigs) X(DescribeLogDirs) X(SaslAuthenticate) X(CreatePartitions)    \
  X(DeleteGroups) X(ElectLeaders) X(IncrementalAlterConfigs) X(OffsetDelete)                       \
  X(DescribeClientQuotas) X(AlterClientQuotas) X(DescribeUserScramCredentials)                     \
  X(AlterUserScramCredentials) X(UpdateFeatures) X(DescribeCluster) X(DescribeProducers)           \
  X(DescribeTransactions) X(ListTransactions) X(ConsumerGroupHeartbeat) X(ConsumerGroupDescribe)

namespace asiokafka::fuzz {

namespace message_list_detail {
namespace m = protocol::messages;
struct end_marker {};
#define ASIOKAFKA_FUZZ_REQUEST(name) m::name##Request,
#define ASIOKAFKA_FUZZ_RESPONSE(name) m::name##Response,
using requests = std::tuple<ASIOKAFKA_FUZZ_APIS(ASIOKAFKA_FUZZ_REQUEST) end_marker>;
using responses = std::tuple<ASIOKAFKA_FUZZ_APIS(ASIOKAFKA_FUZZ_RESPONSE) end_marker>;
#undef ASIOKAFKA_FUZZ_REQUEST
#undef ASIOKAFKA_FUZZ_RESPONSE
}  // namespace message_list_detail

/// Number of APIs; the same as std::size(protocol::supported_apis).
inline constexpr std::size_t api_count = std::tuple_size_v<message_list_detail::requests> - 1;

template <std::size_t I>
using request_type = std::tuple_element_t<I, message_list_detail::requests>;
template <std::size_t I>
using response_type = std::tuple_element_t<I, message_list_detail::responses>;

namespace message_list_detail {
template <class M>
constexpr bool same_api(const protocol::ApiVersionSupport& a) {
  return M::api_key == a.api_key && M::min_version == a.min_version && M::max_version == a.max_version;
}
template <std::size_t... I>
constexpr bool lists_match(std::index_sequence<I...>) {
  return sizeof...(I) == std::size(protocol::supported_apis) &&
         ((same_api<request_type<I>>(protocol::supported_apis[I]) &&
           same_api<response_type<I>>(protocol::supported_apis[I])) && ...);
}
}  // namespace message_list_detail

static_assert(message_list_detail::lists_match(std::make_index_sequence<api_count>{}),
              "fuzz/message_types.hpp is out of step with protocol::supported_apis");

/// Calls `f.template operator()<M>()` for the request (or response) type of API `index`
/// (an index into supported_apis; out of range calls nothing).
template <class F>
void with_message_type(std::size_t index, bool request, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    if (request) {
      ((I == index ? f.template operator()<request_type<I>>() : void()), ...);
    } else {
      ((I == index ? f.template operator()<response_type<I>>() : void()), ...);
    }
  }(std::make_index_sequence<api_count>{});
}

}  // namespace asiokafka::fuzz
