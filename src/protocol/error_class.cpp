#include "protocol/error_class.hpp"

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"

namespace asiokafka {
namespace protocol {
namespace {

/// Connection-level system errors (errno values, whichever category carries them: Asio's
/// system category compares equal to these generic conditions).
bool is_network_errno(std::error_code ec) noexcept {
  for (std::errc c : {std::errc::connection_reset, std::errc::connection_refused, std::errc::connection_aborted,
                      std::errc::broken_pipe, std::errc::timed_out, std::errc::host_unreachable,
                      std::errc::network_unreachable, std::errc::network_down, std::errc::network_reset,
                      std::errc::not_connected}) {
    if (ec == c) return true;
  }
  return false;
}

error_class classify_client(client_errc e) noexcept {
  error_class c;
  switch (e) {
    case client_errc::connection_failed:
    case client_errc::connection_lost:
    case client_errc::timeout:
    case client_errc::no_broker_available:
      c.transport = true;
      c.retriable = true;
      c.refresh_metadata = true;
      break;
    case client_errc::connection_closed:
      // Closed by this client (replaced, reaped, closing): the broker is not suspect.
      c.transport = true;
      break;
    case client_errc::malformed:
    case client_errc::truncated:
    case client_errc::correlation_mismatch:
    case client_errc::frame_too_large:
      c.corrupt_response = true;
      break;
    default: break;
  }
  return c;
}

error_class classify_kafka(std::error_code ec) noexcept {
  error_class c;
  c.retriable = detail::kafka_retriable(ec.value());
  switch (static_cast<kafka_errc>(ec.value())) {
    case kafka_errc::not_leader_or_follower:
    case kafka_errc::leader_not_available:
    case kafka_errc::fenced_leader_epoch:
    case kafka_errc::unknown_topic_or_partition:
    case kafka_errc::unknown_topic_id:
    case kafka_errc::kafka_storage_error:
    case kafka_errc::replica_not_available:
    case kafka_errc::broker_not_available:
      c.stale_leader = true;
      c.refresh_metadata = true;
      break;
    case kafka_errc::unknown_leader_epoch:  // the broker lags behind us: keep the leader
    case kafka_errc::not_controller:
      c.refresh_metadata = true;
      break;
    case kafka_errc::not_coordinator:
    case kafka_errc::coordinator_not_available:
      c.coordinator_moved = true;
      break;
    case kafka_errc::coordinator_load_in_progress: c.coordinator_loading = true; break;
    case kafka_errc::network_exception:
      c.transport = true;
      c.refresh_metadata = true;
      break;
    case kafka_errc::sasl_authentication_failed: c.authentication = true; break;
    default: break;
  }
  return c;
}

}  // namespace

error_class classify(std::error_code ec) noexcept {
  if (!ec) return {};
  if (ec.category() == kafka_category()) return classify_kafka(ec);
  if (ec.category() == client_category()) return classify_client(static_cast<client_errc>(ec.value()));
  error_class c;
  if (ec.category() == sasl_category()) {
    c.authentication = ec == sasl_errc::authentication_failed || ec == sasl_errc::server_signature_mismatch;
    return c;
  }
  if (is_network_errno(ec)) {
    c.transport = true;
    c.retriable = true;
    c.refresh_metadata = true;
  }
  return c;
}

}  // namespace protocol

bool is_retriable(std::error_code ec) noexcept { return protocol::classify(ec).retriable; }

bool is_authentication_failure(std::error_code ec) noexcept { return protocol::classify(ec).authentication; }

}  // namespace asiokafka
