// Marked requests for tests of net::connection against a FakeBroker: requests of four APIs
// (Metadata, DescribeGroups, ListOffsets, DescribeConfigs) that carry a marker (a topic, group
// or resource name) which the fake broker reads back (marker_of) and echoes in its answer
// (echo), so a test sees both the order requests were written in and which answer reached
// which request. Also `tracked` sends and a fake SASL broker that holds a re-authentication
// open. Header-only.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "support/connection_helpers.hpp"
#include "support/fake_broker.hpp"
#include "support/fake_sasl_broker.hpp"

namespace asiokafka::test {

namespace msg = protocol::messages;

/// The four APIs of marked requests.
enum class marked_api { metadata, describe_groups, list_offsets, describe_configs };

inline marked_api api_of(std::size_t i) { return static_cast<marked_api>(i % 4); }

inline std::unique_ptr<net::request_base> marked_request(marked_api a, const std::string& marker) {
  switch (a) {
    case marked_api::metadata: {
      msg::MetadataRequest r;
      msg::MetadataRequest::MetadataRequestTopic t;
      t.name = marker;
      r.topics->push_back(t);
      return std::make_unique<net::typed_request<msg::MetadataRequest>>(r);
    }
    case marked_api::describe_groups: {
      msg::DescribeGroupsRequest r;
      r.groups.push_back(marker);
      return std::make_unique<net::typed_request<msg::DescribeGroupsRequest>>(r);
    }
    case marked_api::list_offsets: {
      msg::ListOffsetsRequest r;
      r.replica_id = -1;
      msg::ListOffsetsRequest::ListOffsetsTopic t;
      t.name = marker;
      r.topics.push_back(t);
      return std::make_unique<net::typed_request<msg::ListOffsetsRequest>>(r);
    }
    case marked_api::describe_configs: {
      msg::DescribeConfigsRequest r;
      msg::DescribeConfigsRequest::DescribeConfigsResource res;
      res.resource_type = 2;  // topic
      res.resource_name = marker;
      r.resources.push_back(res);
      return std::make_unique<net::typed_request<msg::DescribeConfigsRequest>>(r);
    }
  }
  return nullptr;
}

/// The marker a request carries, as the broker decodes it ("" for none).
inline std::string marker_of(const FakeRequest& r) {
  switch (r.api_key) {
    case msg::MetadataRequest::api_key: {
      msg::MetadataRequest m;
      if (m.decode(r.body, r.api_version) || !m.topics || m.topics->empty()) return "";
      return m.topics->front().name.value_or("");
    }
    case msg::DescribeGroupsRequest::api_key: {
      msg::DescribeGroupsRequest m;
      if (m.decode(r.body, r.api_version) || m.groups.empty()) return "";
      return m.groups.front();
    }
    case msg::ListOffsetsRequest::api_key: {
      msg::ListOffsetsRequest m;
      if (m.decode(r.body, r.api_version) || m.topics.empty()) return "";
      return m.topics.front().name;
    }
    case msg::DescribeConfigsRequest::api_key: {
      msg::DescribeConfigsRequest m;
      if (m.decode(r.body, r.api_version) || m.resources.empty()) return "";
      return m.resources.front().resource_name;
    }
    default:
      return "";
  }
}

/// Answers a marked request with its marker (Metadata without one: "fake-cluster"), and
/// ListGroups with an empty list.
inline void echo(FakeSession& s, const FakeRequest& r) {
  const std::string marker = marker_of(r);
  switch (r.api_key) {
    case msg::MetadataRequest::api_key: {
      msg::MetadataResponse response;
      response.cluster_id = marker.empty() ? std::string("fake-cluster") : marker;
      return s.respond(r, response);
    }
    case msg::DescribeGroupsRequest::api_key: {
      msg::DescribeGroupsResponse response;
      msg::DescribeGroupsResponse::DescribedGroup g;
      g.group_id = marker;
      response.groups.push_back(g);
      return s.respond(r, response);
    }
    case msg::ListOffsetsRequest::api_key: {
      msg::ListOffsetsResponse response;
      msg::ListOffsetsResponse::ListOffsetsTopicResponse t;
      t.name = marker;
      response.topics.push_back(t);
      return s.respond(r, response);
    }
    case msg::DescribeConfigsRequest::api_key: {
      msg::DescribeConfigsResponse response;
      msg::DescribeConfigsResponse::DescribeConfigsResult res;
      res.resource_name = marker;
      response.results.push_back(res);
      return s.respond(r, response);
    }
    case msg::ListGroupsRequest::api_key: {
      const msg::ListGroupsResponse response;
      return s.respond(r, response);
    }
    default:
      return;  // not answered
  }
}

/// The marker in the answer a marked request received.
inline std::string echoed(const net::request_base& r) {
  if (const auto* m = dynamic_cast<const net::typed_request<msg::MetadataRequest>*>(&r)) {
    return m->message().cluster_id.value_or("");
  }
  if (const auto* m = dynamic_cast<const net::typed_request<msg::DescribeGroupsRequest>*>(&r)) {
    return m->message().groups.empty() ? "" : m->message().groups.front().group_id;
  }
  if (const auto* m = dynamic_cast<const net::typed_request<msg::ListOffsetsRequest>*>(&r)) {
    return m->message().topics.empty() ? "" : m->message().topics.front().name;
  }
  if (const auto* m = dynamic_cast<const net::typed_request<msg::DescribeConfigsRequest>*>(&r)) {
    return m->message().results.empty() ? "" : m->message().results.front().resource_name;
  }
  return "";
}

/// The markers of the requests the broker read from index `from` of its log on, SASL and
/// ApiVersions requests named by their API instead.
inline std::vector<std::string> written_from(const FakeBroker& broker, std::size_t from) {
  std::vector<std::string> out;
  const auto& log = broker.requests();
  for (std::size_t i = from; i < log.size(); ++i) {
    const auto key = log[i].api_key;
    if (key == msg::ApiVersionsRequest::api_key) continue;
    if (key == msg::SaslHandshakeRequest::api_key) {
      out.emplace_back("<SaslHandshake>");
    } else if (key == msg::SaslAuthenticateRequest::api_key) {
      out.emplace_back("<SaslAuthenticate>");
    } else {
      out.push_back(marker_of(log[i]));
    }
  }
  return out;
}

inline std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return "[" + out + "]";
}

/// One request sent in the background: its result once done.
struct tracked {
  std::unique_ptr<net::request_base> request;
  std::string marker;
  bool done = false;
  net::failure result;
};

/// Sends `t.request` now and records its completion in `t` (which must stay put until then).
inline void send_tracked(const boost::asio::any_io_executor& ex, net::connection& conn, tracked& t, net::request_options options = {},
                  boost::asio::cancellation_slot slot = {}) {
  spawn_await(
      ex, conn.send(*t.request, options),
      [&t](net::failure f) {
        t.done = true;
        t.result = std::move(f);
      },
      slot);
}

inline tracked make_tracked(marked_api a, std::string marker) {
  tracked t;
  t.request = marked_request(a, marker);
  t.marker = std::move(marker);
  return t;
}

inline bool all_done(const std::vector<tracked>& v) {
  for (const auto& t : v) {
    if (!t.done) return false;
  }
  return true;
}

/// Checks that `t` succeeded and got its own answer.
inline std::string expect_answered(const tracked& t) {
  if (!t.done) return t.marker + " did not complete; ";
  if (t.result) return t.marker + " failed: " + failure_text(t.result) + "; ";
  if (echoed(*t.request) != t.marker) return t.marker + " got the answer of " + echoed(*t.request) + "; ";
  return "";
}

/// Checks that `t` failed with `code` and `sent`.
inline std::string expect_failed(const tracked& t, std::error_code code, net::delivery sent) {
  if (!t.done) return t.marker + " did not complete; ";
  if (t.result.code != code || t.result.sent != sent) return t.marker + ": " + failure_text(t.result) + "; ";
  return "";
}

// A fake SASL broker whose sessions last 150 ms and which keeps the first re-authentication's
// SaslHandshake unanswered until the test releases it, so the gate stays closed meanwhile.
struct held_reauth {
  std::shared_ptr<SaslBrokerState> state = std::make_shared<SaslBrokerState>();
  FakeSession* session = nullptr;
  std::optional<FakeRequest> handshake;
  FakeBroker::Handler inner;

  FakeBroker::Handler handler(FakeBroker::Handler app) {
    state->lifetime_ms = 150;
    inner = sasl_broker(state, std::move(app));
    return [this](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::SaslHandshakeRequest::api_key && state->authentications == 1 && !handshake) {
        session = &s;
        handshake = r;
        return;
      }
      inner(s, r);
    };
  }
  void release() {
    if (!handshake || session == nullptr) return;
    const FakeRequest r = *handshake;
    inner(*session, r);
  }
};

}  // namespace asiokafka::test
