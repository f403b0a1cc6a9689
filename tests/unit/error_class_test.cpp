// The one error classification table (src/protocol/error_class.hpp) and what its callers
// derive from it: the coordinator actions and the public predicates.
#include "protocol/error_class.hpp"

#include <gtest/gtest.h>

#include <system_error>

#include <boost/asio/error.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "net/sansio/coordinator_cache.hpp"

namespace asiokafka::protocol {
namespace {

TEST(ErrorClass, TransportFailuresAreRetriableAndMakeMetadataSuspect) {
  for (const auto e : {client_errc::connection_failed, client_errc::connection_lost, client_errc::timeout,
                       client_errc::no_broker_available}) {
    const error_class c = classify(e);
    EXPECT_TRUE(c.transport) << make_error_code(e).message();
    EXPECT_TRUE(c.retriable) << make_error_code(e).message();
    EXPECT_TRUE(c.refresh_metadata) << make_error_code(e).message();
    EXPECT_TRUE(is_retriable(e));
  }
  // Closed by this client: a transport end, but nothing to retry and no broker to suspect.
  EXPECT_TRUE(classify(client_errc::connection_closed).transport);
  EXPECT_FALSE(classify(client_errc::connection_closed).retriable);
  EXPECT_FALSE(classify(client_errc::connection_closed).refresh_metadata);
  // The OS's errors, as Asio reports them, count the same.
  EXPECT_TRUE(classify(std::error_code(boost::system::error_code(boost::asio::error::connection_reset))).transport);
  EXPECT_TRUE(classify(std::make_error_code(std::errc::connection_refused)).transport);
  EXPECT_FALSE(classify(std::make_error_code(std::errc::permission_denied)).transport);
}

TEST(ErrorClass, UntrustworthyAnswersAreCorruptNotTransport) {
  for (const auto e : {client_errc::malformed, client_errc::truncated, client_errc::correlation_mismatch,
                       client_errc::frame_too_large}) {
    EXPECT_TRUE(classify(e).corrupt_response);
    EXPECT_FALSE(classify(e).transport);
    EXPECT_FALSE(classify(e).retriable);
  }
}

TEST(ErrorClass, LeadershipErrorsForgetTheLeaderButNotAllRefreshErrorsDo) {
  for (const auto e : {kafka_errc::not_leader_or_follower, kafka_errc::leader_not_available,
                       kafka_errc::fenced_leader_epoch, kafka_errc::unknown_topic_or_partition,
                       kafka_errc::unknown_topic_id, kafka_errc::kafka_storage_error, kafka_errc::replica_not_available,
                       kafka_errc::broker_not_available}) {
    EXPECT_TRUE(classify(e).stale_leader) << error_name(e);
    EXPECT_TRUE(classify(e).refresh_metadata) << error_name(e);
  }
  // The broker lags behind us: refresh, but keep the leader.
  EXPECT_FALSE(classify(kafka_errc::unknown_leader_epoch).stale_leader);
  EXPECT_TRUE(classify(kafka_errc::unknown_leader_epoch).refresh_metadata);
  EXPECT_FALSE(classify(kafka_errc::topic_authorization_failed).refresh_metadata);
}

TEST(ErrorClass, CoordinatorErrors) {
  EXPECT_TRUE(classify(kafka_errc::not_coordinator).coordinator_moved);
  EXPECT_TRUE(classify(kafka_errc::coordinator_not_available).coordinator_moved);
  EXPECT_TRUE(classify(kafka_errc::coordinator_load_in_progress).coordinator_loading);
  EXPECT_FALSE(classify(kafka_errc::coordinator_load_in_progress).coordinator_moved);
}

TEST(ErrorClass, AuthenticationAndTheEmptyCode) {
  EXPECT_TRUE(classify(kafka_errc::sasl_authentication_failed).authentication);
  EXPECT_TRUE(classify(sasl_errc::authentication_failed).authentication);
  EXPECT_TRUE(classify(sasl_errc::server_signature_mismatch).authentication);
  EXPECT_FALSE(classify(sasl_errc::malformed_server_message).authentication);
  EXPECT_TRUE(is_authentication_failure(kafka_errc::sasl_authentication_failed));
  const error_class none = classify(std::error_code{});
  EXPECT_FALSE(none.retriable || none.transport || none.corrupt_response || none.stale_leader ||
               none.refresh_metadata || none.coordinator_moved || none.coordinator_loading || none.authentication);
}

// The bug the table fixed: a coordinator that could not be reached at all must be looked up
// again (the old classification answered "fail" for the codes the cluster produces).
TEST(ErrorClass, UnreachableCoordinatorIsRediscoveredNotFailed) {
  using net::coordinator_action;
  using net::classify_coordinator_error;
  EXPECT_EQ(classify_coordinator_error(client_errc::connection_failed), coordinator_action::rediscover);
  EXPECT_EQ(classify_coordinator_error(client_errc::connection_lost), coordinator_action::rediscover);
  EXPECT_EQ(classify_coordinator_error(client_errc::timeout), coordinator_action::rediscover);
  EXPECT_EQ(classify_coordinator_error(kafka_errc::not_coordinator), coordinator_action::rediscover);
  EXPECT_EQ(classify_coordinator_error(kafka_errc::coordinator_load_in_progress), coordinator_action::retry);
  EXPECT_EQ(classify_coordinator_error(kafka_errc::group_authorization_failed), coordinator_action::fail);
  EXPECT_EQ(classify_coordinator_error(client_errc::malformed), coordinator_action::fail);
  EXPECT_EQ(classify_coordinator_error(std::error_code{}), coordinator_action::none);
}

}  // namespace
}  // namespace asiokafka::protocol
