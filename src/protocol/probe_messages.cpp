#include "protocol/probe_messages.hpp"

#include "asiokafka/error.hpp"

namespace asiokafka::protocol {
namespace {

// Writes the length placeholder and a request header v1 (v2 when `flexible`).
std::size_t begin_request(Writer& w, std::int16_t api_key, std::int16_t version,
                          std::int32_t correlation_id, std::string_view client_id, bool flexible) {
  const std::size_t start = w.size();
  w.i32(0);
  w.i16(api_key);
  w.i16(version);
  w.i32(correlation_id);
  w.nullable_string(client_id);  // client_id stays a non-compact string even in header v2
  if (flexible) w.empty_tagged_fields();
  return start;
}

void end_request(Writer& w, std::size_t start) {
  w.patch_i32(start, static_cast<std::int32_t>(w.size() - start - 4));
}

std::error_code finish(const Reader& r) { return r.error(); }

}  // namespace

bytes encode_api_versions_request(std::int16_t version, std::int32_t correlation_id,
                                  std::string_view client_id, std::string_view software_name,
                                  std::string_view software_version) {
  bytes out;
  Writer w(out);
  const bool flexible = version >= 3;
  const auto start = begin_request(w, api_key_api_versions, version, correlation_id, client_id, flexible);
  if (flexible) {
    w.compact_string(software_name);
    w.compact_string(software_version);
    w.empty_tagged_fields();
  }
  end_request(w, start);
  return out;
}

bytes encode_metadata_request(std::int16_t version, std::int32_t correlation_id,
                              std::string_view client_id) {
  bytes out;
  Writer w(out);
  const auto start = begin_request(w, api_key_metadata, version, correlation_id, client_id, false);
  w.array_length(0);  // no topics: brokers, cluster id and controller only
  if (version >= 4) w.boolean(false);  // allow_auto_topic_creation
  if (version >= 8) {
    w.boolean(false);  // include_cluster_authorized_operations
    w.boolean(false);  // include_topic_authorized_operations
  }
  end_request(w, start);
  return out;
}

std::span<const std::uint8_t> strip_response_header(std::span<const std::uint8_t> frame,
                                                    bool flexible_header,
                                                    std::int32_t& correlation_id,
                                                    std::error_code& ec) {
  Reader r(frame);
  correlation_id = r.i32();
  if (flexible_header) r.skip_tagged_fields();
  ec = r.error();
  if (ec) return {};
  return frame.subspan(frame.size() - r.remaining());
}

ApiVersionsResponse decode_api_versions_response(std::span<const std::uint8_t> body,
                                                 std::int16_t version, std::error_code& ec) {
  ApiVersionsResponse resp;
  Reader r(body);
  resp.error_code = r.i16();
  if (resp.error_code == error_unsupported_version) version = 0;
  const bool flexible = version >= 3;
  const std::int32_t n = flexible ? r.compact_array_length(7) : r.array_length(6);
  if (n > 0) resp.api_keys.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n && r.ok(); ++i) {
    ApiVersionEntry e;
    e.api_key = r.i16();
    e.min_version = r.i16();
    e.max_version = r.i16();
    if (flexible) r.skip_tagged_fields();
    if (r.ok()) resp.api_keys.push_back(e);
  }
  if (n < 0) r.fail(client_errc::malformed);  // api_keys is not nullable
  if (version >= 1) resp.throttle_time_ms = r.i32();
  if (flexible) r.skip_tagged_fields();
  ec = finish(r);
  return resp;
}

MetadataResponse decode_metadata_response(std::span<const std::uint8_t> body,
                                          std::int16_t version, std::error_code& ec) {
  MetadataResponse resp;
  if (version < metadata_min_version || version > metadata_max_version) {
    ec = client_errc::unsupported_version;
    return resp;
  }
  Reader r(body);
  if (version >= 3) r.i32();  // throttle_time_ms
  const std::int32_t n = r.array_length(12);
  if (n < 0) r.fail(client_errc::malformed);
  for (std::int32_t i = 0; i < n && r.ok(); ++i) {
    MetadataBroker b;
    b.node_id = r.i32();
    b.host = std::string(r.string());
    b.port = r.i32();
    if (auto rack = r.nullable_string()) b.rack = std::string(*rack);
    if (r.ok()) resp.brokers.push_back(std::move(b));
  }
  if (version >= 2) {
    if (auto id = r.nullable_string(); r.ok() && id) resp.cluster_id = std::string(*id);
  }
  resp.controller_id = r.i32();
  // The topic list follows; the probe asks for none, so it is not interpreted.
  ec = finish(r);
  return resp;
}

}  // namespace asiokafka::protocol
