#include "net/sansio/api_versions.hpp"

#include <algorithm>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka::net {
namespace {

namespace msg = protocol::messages;
constexpr std::int16_t error_unsupported_version = 35;

}  // namespace

api_versions_exchange::api_versions_exchange(std::string software_name, std::string software_version)
    : software_name_(std::move(software_name)),
      software_version_(std::move(software_version)),
      version_(msg::ApiVersionsRequest::max_version) {}

std::vector<std::uint8_t> api_versions_exchange::request_body() const {
  // Software name and version exist from v3 on; v0-v2 requests carry no body fields.
  msg::ApiVersionsRequest request;
  if (version_ >= 3) {
    request.client_software_name = software_name_;
    request.client_software_version = software_version_;
  }
  std::vector<std::uint8_t> body;
  (void)request.encode(body, version_);  // cannot fail: every field exists in this version
  return body;
}

api_versions_exchange::step api_versions_exchange::on_response(std::span<const std::uint8_t> body,
                                                               std::error_code& ec, std::string& what) {
  ++attempts_;
  msg::ApiVersionsResponse decoded;
  ec = decoded.decode(body, version_);
  // KIP-511: a broker that does not support our version answers UNSUPPORTED_VERSION in the
  // v0 layout, listing what it supports. error_code is the first field in every version.
  const bool rejected = body.size() >= 2 && (body[0] << 8 | body[1]) == error_unsupported_version;
  if (rejected && version_ != 0) {
    msg::ApiVersionsResponse as_v0;
    if (!as_v0.decode(body, 0)) decoded = std::move(as_v0);
    decoded.error_code = error_unsupported_version;
    ec = {};  // a list we cannot read only means falling back to v0
  }
  if (ec) {
    what = "ApiVersions v" + std::to_string(version_) + " response";
    return step::failed;
  }
  if (decoded.error_code == error_unsupported_version) {
    if (attempts_ >= 2) {
      ec = client_errc::unsupported_version;
      what = "ApiVersions v" + std::to_string(version_);
      return step::failed;
    }
    // Retry with the best common version; some peers list nothing usable (librdkafka's mock
    // answers in the requested layout), and v0 is understood by every broker.
    const auto it = std::find_if(decoded.api_keys.begin(), decoded.api_keys.end(),
                                 [](const auto& e) { return e.api_key == msg::ApiVersionsRequest::api_key; });
    // A listed maximum outside 0..ours (negative: garbage) falls back to v0 as well; the
    // handshake fuzz target found the negative one.
    const std::int16_t listed = it == decoded.api_keys.end() ? std::int16_t{0} : it->max_version;
    version_ = listed < 0 ? std::int16_t{0} : std::min(listed, msg::ApiVersionsRequest::max_version);
    return step::retry;
  }
  if (decoded.error_code != 0) {
    ec = client_errc::broker_error;
    what = "ApiVersions error code " + std::to_string(decoded.error_code);
    return step::failed;
  }
  response_ = std::move(decoded);
  return step::done;
}

std::int16_t common_version(std::span<const api_versions_exchange::ApiVersion> broker, std::int16_t api_key,
                            std::int16_t lowest, std::int16_t cap) noexcept {
  const auto* ours = protocol::find_api(api_key);
  const auto theirs = std::find_if(broker.begin(), broker.end(), [&](const auto& e) { return e.api_key == api_key; });
  if (ours == nullptr || theirs == broker.end()) return -1;
  const auto v = std::min({ours->max_version, theirs->max_version, cap});
  return v < std::max({ours->min_version, theirs->min_version, lowest}) ? std::int16_t{-1} : v;
}

}  // namespace asiokafka::net
