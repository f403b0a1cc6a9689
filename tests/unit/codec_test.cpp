// Tests of the generated Kafka message codec (include/asiokafka/protocol/messages*.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "unit/codec_cases.hpp"

namespace asiokafka::protocol::messages {
namespace {

using bytes = std::vector<std::uint8_t>;

std::string to_hex(const bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s.push_back(digits[c >> 4]);
    s.push_back(digits[c & 15]);
  }
  return s;
}

bytes from_hex(const std::string& s) {
  bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

const CodecCase* find_case(const std::string& name) {
  for (const auto& c : all_codec_cases()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string data_path(const std::string& rel) { return std::string(ASIOKAFKA_TEST_DATA_DIR) + "/" + rel; }

TEST(Codec, CoversEveryRequiredMessage) {
  EXPECT_EQ(all_codec_cases().size(), 2 * std::size(supported_apis) + 4);
  for (const char* name : {"ProduceRequest", "FetchResponse", "ConsumerGroupHeartbeatRequest",
                           "ListTransactionsResponse", "DescribeLogDirsResponse",
                           "AlterUserScramCredentialsRequest", "WriteTxnMarkersRequest",
                           "UpdateFeaturesResponse", "ConsumerProtocolSubscription",
                           "ConsumerProtocolAssignment", "RequestHeader", "ResponseHeader"}) {
    EXPECT_NE(find_case(name), nullptr) << name;
  }
}

TEST(Codec, RoundTripEveryMessageEveryVersion) {
  int checked = 0;
  for (const auto& c : all_codec_cases()) {
    for (std::int16_t v = c.min_version; v <= c.max_version; ++v) {
      EXPECT_TRUE(c.round_trip(v)) << c.name << " v" << v;
      ++checked;
    }
  }
  EXPECT_GT(checked, 400);
}

TEST(Codec, UnknownTaggedFieldsSurviveDecodeEncode) {
  for (const auto& c : all_codec_cases()) {
    if (c.flexible_min_version < 0) continue;
    for (std::int16_t v = c.flexible_min_version; v <= c.max_version; ++v) {
      EXPECT_TRUE(c.unknown_tags_survive(v)) << c.name << " v" << v;
    }
  }
}

TEST(Codec, EveryStrictPrefixIsTruncated) {
  for (const auto& c : all_codec_cases()) {
    for (std::int16_t v = c.min_version; v <= c.max_version; ++v) {
      EXPECT_TRUE(c.prefixes_truncated(v)) << c.name << " v" << v;
    }
  }
}

TEST(Codec, FieldAbsentFromVersionIsAnError) {
  bytes out{0xaa};
  ProduceRequest p;
  p.transactional_id = "tx";  // v3+
  EXPECT_EQ(p.encode(out, 2), client_errc::field_not_in_version);
  EXPECT_EQ(out, bytes{0xaa}) << "encode must leave `out` unchanged on error";
  EXPECT_FALSE(p.encode(out, 3));

  MetadataRequest m;
  m.allow_auto_topic_creation = false;  // v4+, default true, not ignorable
  EXPECT_EQ(m.encode(out, 3), client_errc::field_not_in_version);
  EXPECT_FALSE(m.encode(out, 4));

  JoinGroupRequest j;
  j.group_instance_id = "static-member";  // v5+
  EXPECT_EQ(j.encode(out, 4), client_errc::field_not_in_version);

  // A nested field: FetchRequest partitions' LastFetchedEpoch is v12+.
  FetchRequest nested;
  nested.topics.emplace_back().partitions.emplace_back().last_fetched_epoch = 7;
  EXPECT_EQ(nested.encode(out, 11), client_errc::field_not_in_version);
  EXPECT_FALSE(nested.encode(out, 12));

  // Ignorable fields are dropped silently, as the Java client does.
  FetchRequest f;
  f.rack_id = "rack-a";  // v11+, ignorable
  out.clear();
  EXPECT_FALSE(f.encode(out, 10));
  FetchRequest back;
  ASSERT_FALSE(back.decode(out, 10));
  EXPECT_EQ(back.rack_id, "");
}

TEST(Codec, NullOnlyWhereTheVersionAllowsIt) {
  bytes out;
  MetadataRequest m;
  m.topics.reset();  // null means "all topics" from v1
  EXPECT_EQ(m.encode(out, 0), client_errc::malformed);
  EXPECT_TRUE(out.empty());
  ASSERT_FALSE(m.encode(out, 1));
  MetadataRequest back;
  ASSERT_FALSE(back.decode(out, 1));
  EXPECT_FALSE(back.topics.has_value());
  // The same bytes are invalid in v0, where the array is not nullable.
  EXPECT_EQ(back.decode(bytes{0xff, 0xff, 0xff, 0xff}, 0), client_errc::malformed);

  ProduceRequest p;
  p.topic_data.emplace_back().partition_data.emplace_back();  // records null: allowed
  out.clear();
  EXPECT_FALSE(p.encode(out, 9));
}

TEST(Codec, DecodeRejectsTrailingBytesAndUnknownVersions) {
  bytes out;
  HeartbeatRequest h;
  h.group_id = "g";
  ASSERT_FALSE(h.encode(out, 0));
  out.push_back(0);
  HeartbeatRequest back;
  EXPECT_EQ(back.decode(out, 0), client_errc::malformed);
  EXPECT_EQ(back.decode(out, 99), client_errc::unknown_api);
  EXPECT_EQ(h.encode(out, -1), client_errc::unknown_api);
}

TEST(Codec, StringsLongerThanInt16MaxAreMalformed) {
  HeartbeatRequest h;
  h.group_id.assign(0x8000, 'g');
  bytes out;
  EXPECT_EQ(h.encode(out, 4), client_errc::malformed);
  EXPECT_TRUE(out.empty());
  // The compact form could carry the length; decoding refuses it so that whatever decodes
  // can be encoded again (the Java client does the same).
  bytes body = {0x81, 0x80, 0x02};  // uvarint 0x8001: a string of 0x8000 bytes
  body.insert(body.end(), 0x8000, 'g');
  for (int i = 0; i < 4 + 2 + 2 + 1; ++i) body.push_back(i == 6 ? 1 : 0);  // rest of v4
  HeartbeatRequest back;
  EXPECT_EQ(back.decode(body, 4), client_errc::malformed);
}

TEST(Codec, RecordsAreViewsIntoTheBody) {
  const bytes records = {1, 2, 3, 4, 5};
  FetchResponse r;
  auto& part = r.responses.emplace_back().partitions.emplace_back();
  part.records.data = std::span<const std::uint8_t>(records);
  bytes body;
  ASSERT_FALSE(r.encode(body, 12));
  FetchResponse back;
  ASSERT_FALSE(back.decode(body, 12));
  const auto view = back.responses.at(0).partitions.at(0).records.bytes();
  ASSERT_EQ(view.size(), records.size());
  EXPECT_GE(view.data(), body.data());
  EXPECT_LE(view.data() + view.size(), body.data() + body.size());
  EXPECT_EQ(back, r);
}

TEST(Codec, KnownTaggedFieldsRoundTripAndDefaultsAreOmitted) {
  ApiVersionsResponse r;
  bytes plain;
  ASSERT_FALSE(r.encode(plain, 3));
  // error_code, empty api_keys (compact 1), throttle_time_ms, no tags.
  EXPECT_EQ(to_hex(plain), "0000" "01" "00000000" "00");
  r.finalized_features_epoch = 5;  // tag 1
  r.unknown_tagged_fields.push_back({0x7, {0xee}});
  r.unknown_tagged_fields.push_back({0x0, {}});  // unknown before known: kept in tag order
  std::swap(r.unknown_tagged_fields[0], r.unknown_tagged_fields[1]);
  bytes tagged;
  ASSERT_FALSE(r.encode(tagged, 3));
  EXPECT_EQ(to_hex(tagged), "0000" "01" "00000000" "03" "0000" "0108" "0000000000000005" "0701ee");
}

TEST(Codec, HeaderVersionRule) {
  EXPECT_EQ(request_header_version(ProduceRequest::api_key, 8), 1);
  EXPECT_EQ(request_header_version(ProduceRequest::api_key, 9), 2);
  EXPECT_EQ(response_header_version(ProduceRequest::api_key, 8), 0);
  EXPECT_EQ(response_header_version(ProduceRequest::api_key, 9), 1);
  EXPECT_EQ(request_header_version(ApiVersionsRequest::api_key, 3), 2);
  EXPECT_EQ(response_header_version(ApiVersionsRequest::api_key, 3), 0);
  EXPECT_EQ(response_header_version(ApiVersionsRequest::api_key, 4), 0);
  EXPECT_EQ(request_header_version(ConsumerGroupHeartbeatRequest::api_key, 0), 2);
  EXPECT_EQ(request_header_version(9999, 0), -1);
  EXPECT_EQ(request_header_version(ProduceRequest::api_key, 99), -1);

  RequestHeader h;
  h.request_api_key = 18;
  h.request_api_version = 3;
  h.correlation_id = 7;
  h.client_id = "c";
  bytes out;
  ASSERT_FALSE(h.encode(out, 2));
  // ClientId stays a non-compact nullable string even in the flexible header v2.
  EXPECT_EQ(to_hex(out), "0012" "0003" "00000007" "000163" "00");
  out.clear();
  ASSERT_FALSE(h.encode(out, 1));
  EXPECT_EQ(to_hex(out), "0012" "0003" "00000007" "000163");
  ResponseHeader rh;
  rh.correlation_id = 7;
  out.clear();
  ASSERT_FALSE(rh.encode(out, 1));
  EXPECT_EQ(to_hex(out), "00000007" "00");
}

TEST(Codec, SupportedApisMatchTheMessages) {
  for (const auto& a : supported_apis) {
    EXPECT_LE(a.min_version, a.max_version) << a.name;
    EXPECT_EQ(decode_request_any(a.api_key, static_cast<std::int16_t>(a.max_version + 1), {}),
              client_errc::unknown_api);
  }
  EXPECT_EQ(decode_response_any(9999, 0, {}), client_errc::unknown_api);
  EXPECT_EQ(decode_response_any(HeartbeatResponse::api_key, 0, {}), client_errc::truncated);
  EXPECT_FALSE(decode_response_any(HeartbeatResponse::api_key, 0, bytes{0, 0}));
}

// Golden bytes from the Java client's generated *Data classes (tools/codegen/make_golden.sh):
// lines "<message> <version> <hex>" for the same deterministic values codec_fill.cpp sets.
TEST(Codec, MatchesJavaClientGoldenBytes) {
  std::ifstream in(data_path("codec/java_golden.txt"));
  ASSERT_TRUE(in) << "missing " << data_path("codec/java_golden.txt");
  std::string line;
  int compared = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name, hex;
    int version = 0;
    ls >> name >> version >> hex;
    const auto* c = find_case(name);
    ASSERT_NE(c, nullptr) << name;
    bytes out;
    ASSERT_FALSE(c->encode_filled(static_cast<std::int16_t>(version), out)) << name << " v" << version;
    EXPECT_EQ(to_hex(out), hex) << name << " v" << version;
    ++compared;
  }
  EXPECT_GT(compared, 400);
}

// Real broker responses (Kafka 4.3.1) captured by tools/codegen/capture_responses.py: bodies
// after the response header. Each must decode, hold what the capture put in, and re-encode
// to the same bytes.
bytes read_capture(const std::string& name) {
  std::ifstream in(data_path("codec/broker_" + name + ".hex"));
  std::string hex;
  in >> hex;
  return from_hex(hex);
}

template <class M>
M decode_capture(const std::string& name, std::int16_t version, const bytes& body) {
  M m;
  EXPECT_FALSE(body.empty()) << name;
  const auto ec = m.decode(body, version);
  EXPECT_FALSE(ec) << name << ": " << ec.message();
  bytes again;
  EXPECT_FALSE(m.encode(again, version)) << name;
  EXPECT_EQ(to_hex(again), to_hex(body)) << name << " re-encoded";
  return m;
}

bool contains(std::span<const std::uint8_t> hay, std::string_view needle) {
  const std::string_view s(reinterpret_cast<const char*>(hay.data()), hay.size());
  return s.find(needle) != std::string_view::npos;
}

TEST(Codec, DecodesBrokerApiVersions) {
  for (const std::int16_t v : {std::int16_t{0}, std::int16_t{3}}) {
    const auto body = read_capture("api_versions_v" + std::to_string(v));
    const auto r = decode_capture<ApiVersionsResponse>("api_versions", v, body);
    EXPECT_EQ(r.error_code, 0);
    bool produce = false, api_versions = false;
    for (const auto& k : r.api_keys) {
      if (k.api_key == 0) produce = k.max_version >= 9;
      if (k.api_key == 18) api_versions = k.min_version == 0 && k.max_version >= 4;
    }
    EXPECT_TRUE(produce) << "v" << v;
    EXPECT_TRUE(api_versions) << "v" << v;
    if (v == 3) {
      EXPECT_GE(r.finalized_features_epoch, 0);
      EXPECT_FALSE(r.finalized_features.empty());
    }
  }
}

TEST(Codec, DecodesBrokerMetadata) {
  for (const std::int16_t v : {std::int16_t{8}, std::int16_t{12}}) {
    const auto body = read_capture("metadata_v" + std::to_string(v));
    const auto r = decode_capture<MetadataResponse>("metadata", v, body);
    ASSERT_EQ(r.brokers.size(), 1u);
    EXPECT_EQ(r.brokers[0].host, "127.0.0.1");
    EXPECT_GT(r.brokers[0].port, 0);
    EXPECT_TRUE(r.cluster_id.has_value());
    EXPECT_EQ(r.controller_id, r.brokers[0].node_id);
    ASSERT_EQ(r.topics.size(), 1u);
    EXPECT_EQ(r.topics[0].error_code, 0);
    EXPECT_EQ(r.topics[0].name, std::optional<std::string>("codec-capture"));
    ASSERT_EQ(r.topics[0].partitions.size(), 1u);
    EXPECT_EQ(r.topics[0].partitions[0].leader_id, r.brokers[0].node_id);
    if (v == 12) {
      EXPECT_NE(r.topics[0].topic_id, uuid{});
    }
  }
}

TEST(Codec, DecodesBrokerProduce) {
  const struct {
    std::int16_t version;
    std::int64_t base_offset;
  } cases[] = {{9, 0}, {3, 1}};
  for (const auto& c : cases) {
    const auto body = read_capture("produce_v" + std::to_string(c.version));
    const auto r = decode_capture<ProduceResponse>("produce", c.version, body);
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(r.responses[0].name, "codec-capture");
    ASSERT_EQ(r.responses[0].partition_responses.size(), 1u);
    const auto& p = r.responses[0].partition_responses[0];
    EXPECT_EQ(p.error_code, 0);
    EXPECT_EQ(p.base_offset, c.base_offset);
  }
}

TEST(Codec, DecodesBrokerFetchRecordsAsViews) {
  for (const std::int16_t v : {std::int16_t{4}, std::int16_t{12}}) {
    const auto body = read_capture("fetch_v" + std::to_string(v));
    const auto r = decode_capture<FetchResponse>("fetch", v, body);
    EXPECT_EQ(r.error_code, 0);
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(r.responses[0].topic, "codec-capture");
    ASSERT_EQ(r.responses[0].partitions.size(), 1u);
    const auto& p = r.responses[0].partitions[0];
    EXPECT_EQ(p.error_code, 0);
    EXPECT_EQ(p.high_watermark, 2);
    const auto records = p.records.bytes();
    EXPECT_TRUE(contains(records, "hello-v9"));
    EXPECT_TRUE(contains(records, "hello-v3"));
    EXPECT_GE(records.data(), body.data());
    EXPECT_LE(records.data() + records.size(), body.data() + body.size());
  }
}

}  // namespace
}  // namespace asiokafka::protocol::messages
