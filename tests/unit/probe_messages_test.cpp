#include "protocol/probe_messages.hpp"

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"

namespace asiokafka::protocol {
namespace {

TEST(ApiVersionsRequest, V0GoldenBytes) {
  const bytes frame = encode_api_versions_request(0, 7, "c", "ignored", "ignored");
  // size=11 | api_key=18 | version=0 | correlation=7 | client_id "c"
  EXPECT_EQ(frame, (bytes{0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 'c'}));
}

TEST(ApiVersionsRequest, V3GoldenBytesUseHeaderV2AndCompactStrings) {
  const bytes frame = encode_api_versions_request(3, 1, "id", "sw", "1.0");
  const bytes expected{0, 0, 0, 21,              // size
                       0, 18, 0, 3, 0, 0, 0, 1,  // api key, version, correlation id
                       0, 2, 'i', 'd',           // client_id: a non-compact nullable string
                       0,                        // header tagged fields
                       3, 's', 'w',              // client_software_name
                       4, '1', '.', '0',         // client_software_version
                       0};                       // body tagged fields
  EXPECT_EQ(frame, expected);
}

TEST(MetadataRequest, V1V4AndV8GoldenBytes) {
  EXPECT_EQ(encode_metadata_request(1, 2, "c"), (bytes{0, 0, 0, 15, 0, 3, 0, 1, 0, 0, 0, 2, 0, 1, 'c', 0, 0, 0, 0}));
  EXPECT_EQ(encode_metadata_request(4, 2, "c"),
            (bytes{0, 0, 0, 16, 0, 3, 0, 4, 0, 0, 0, 2, 0, 1, 'c', 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode_metadata_request(8, 2, "c"),
            (bytes{0, 0, 0, 18, 0, 3, 0, 8, 0, 0, 0, 2, 0, 1, 'c', 0, 0, 0, 0, 0, 0, 0}));
}

bytes api_versions_v3_body() {
  return {0, 0,                      // error_code
          3,                         // 2 entries
          0, 0, 0, 0, 0, 11, 0,      // Produce 0..11, no tags
          0, 1, 0, 4, 0, 17, 0,      // Fetch 4..17
          0, 0, 0, 0,                // throttle_time_ms
          0};                        // tagged fields
}

TEST(ApiVersionsResponse, DecodesV3) {
  std::error_code ec;
  const auto r = decode_api_versions_response(api_versions_v3_body(), 3, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.error_code, 0);
  ASSERT_EQ(r.api_keys.size(), 2u);
  EXPECT_EQ(r.api_keys[0], (ApiVersionEntry{0, 0, 11}));
  EXPECT_EQ(r.api_keys[1], (ApiVersionEntry{1, 4, 17}));
}

TEST(ApiVersionsResponse, UnsupportedVersionAnswerIsReadAsV0) {
  // KIP-511: error 35 and the broker's ranges in the v0 layout, whatever version was asked.
  const bytes body{0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2};
  std::error_code ec;
  const auto r = decode_api_versions_response(body, 3, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.error_code, 35);
  ASSERT_EQ(r.api_keys.size(), 1u);
  EXPECT_EQ(r.api_keys[0], (ApiVersionEntry{18, 0, 2}));
}

TEST(ApiVersionsResponse, EveryTruncationIsAnError) {
  const bytes full = api_versions_v3_body();
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::error_code ec;
    decode_api_versions_response(std::span(full).first(n), 3, ec);
    EXPECT_EQ(ec, client_errc::truncated) << "prefix of " << n << " bytes";
  }
}

TEST(ApiVersionsResponse, NullArrayIsMalformed) {
  const bytes body{0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  std::error_code ec;
  decode_api_versions_response(body, 1, ec);
  EXPECT_EQ(ec, client_errc::malformed);
}

TEST(MetadataResponse, DecodesBrokersClusterIdAndController) {
  const bytes body{0, 0, 0, 0,                                     // throttle
                   0, 0, 0, 1,                                     // 1 broker
                   0, 0, 0, 1, 0, 9, '1', '2', '7', '.', '0', '.', '0', '.', '1',
                   0, 0, 0x23, 0x84,                               // port 9092
                   0xff, 0xff,                                     // rack null
                   0, 3, 'c', 'i', 'd',                            // cluster id
                   0, 0, 0, 1,                                     // controller
                   0, 0, 0, 0};                                    // topics
  std::error_code ec;
  const auto r = decode_metadata_response(body, 4, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(r.brokers.size(), 1u);
  EXPECT_EQ(r.brokers[0].node_id, 1);
  EXPECT_EQ(r.brokers[0].host, "127.0.0.1");
  EXPECT_EQ(r.brokers[0].port, 9092);
  EXPECT_FALSE(r.brokers[0].rack);
  EXPECT_EQ(r.cluster_id, "cid");
  EXPECT_EQ(r.controller_id, 1);

  for (std::size_t n = 0; n < body.size() - 4; ++n) {
    std::error_code prefix_ec;
    decode_metadata_response(std::span(body).first(n), 4, prefix_ec);
    EXPECT_EQ(prefix_ec, client_errc::truncated) << "prefix of " << n << " bytes";
  }
}

TEST(MetadataResponse, V1HasNoThrottleAndNoClusterId) {
  const bytes body{0, 0, 0, 1,                                     // 1 broker
                   0, 0, 0, 2, 0, 1, 'h', 0, 0, 0, 1, 0, 1, 'r',   // id 2, "h", port 1, rack "r"
                   0, 0, 0, 2,                                     // controller
                   0, 0, 0, 0};                                    // topics
  std::error_code ec;
  const auto r = decode_metadata_response(body, 1, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(r.brokers.size(), 1u);
  EXPECT_EQ(r.brokers[0].rack, "r");
  EXPECT_FALSE(r.cluster_id);
  EXPECT_EQ(r.controller_id, 2);
}

TEST(MetadataResponse, VersionOutsideProbeRangeIsRejected) {
  std::error_code ec;
  decode_metadata_response({}, 9, ec);
  EXPECT_EQ(ec, client_errc::unsupported_version);
}

TEST(ResponseHeader, StripsCorrelationIdAndFlexibleTags) {
  const bytes frame{0, 0, 0, 9, 1, 0, 1, 0xff, 0xaa, 0xbb};  // one tag: id 0, 1 byte
  std::int32_t corr = 0;
  std::error_code ec;
  auto body = strip_response_header(frame, true, corr, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(corr, 9);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0], 0xaa);
  strip_response_header(std::span(frame).first(3), false, corr, ec);
  EXPECT_EQ(ec, client_errc::truncated);
}

}  // namespace
}  // namespace asiokafka::protocol
