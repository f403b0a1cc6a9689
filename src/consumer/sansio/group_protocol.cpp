// The consumer protocol payloads (group_protocol.hpp): a version prefix around the generated
// codec's bodies, with Java's rules for newer versions and trailing bytes.
#include "consumer/sansio/group_protocol.hpp"

#include <algorithm>
#include <utility>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages/consumer_protocol.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::consumer {

namespace {

namespace msg = protocol::messages;

// Reads the version prefix: a negative version is malformed, a newer one is read as ours.
std::error_code read_version(protocol::reader& r, std::int16_t& version) {
  const std::int16_t v = r.i16();
  if (!r.ok()) return r.error();
  if (v < 0) return client_errc::malformed;
  version = std::min(v, consumer_protocol_version);
  return {};
}

// The generated decoder wants the body to end exactly after the fields of its version, while
// Java ignores whatever follows them. These walk the fields (without checking their values:
// the codec does that) to find where the body of `version` ends.
void skip_topic_partitions(protocol::reader& r) {
  const std::int32_t n = r.array_length(6);
  for (std::int32_t i = 0; i < n && r.ok(); ++i) {
    r.string();
    r.skip(static_cast<std::size_t>(std::max(r.array_length(4), 0)) * 4);
  }
}

void skip_subscription(protocol::reader& r, std::int16_t version) {
  const std::int32_t topics = r.array_length(2);
  for (std::int32_t i = 0; i < topics && r.ok(); ++i) r.string();
  r.nullable_bytes();
  if (version >= 1) skip_topic_partitions(r);
  if (version >= 2) r.i32();
  if (version >= 3) r.nullable_string();
}

void skip_assignment(protocol::reader& r) {
  skip_topic_partitions(r);
  r.nullable_bytes();
}

// The body of the version read: `rest` up to where the walker stopped.
template <class Skip>
std::error_code body_of(std::span<const std::uint8_t> rest, std::span<const std::uint8_t>& body, Skip&& skip) {
  protocol::reader r(rest);
  skip(r);
  if (!r.ok()) return r.error();
  body = rest.first(rest.size() - r.remaining());
  return {};
}

template <class TopicList>
void append_partitions(const TopicList& topics, std::vector<TopicPartition>& out) {
  for (const auto& t : topics) {
    for (const std::int32_t p : t.partitions) out.emplace_back(t.topic, p);
  }
}

// Groups partitions by topic, in (topic, partition) order, into the codec's topic list.
template <class Entry>
std::vector<Entry> group_by_topic(std::vector<TopicPartition> partitions) {
  std::sort(partitions.begin(), partitions.end());
  std::vector<Entry> out;
  for (auto& tp : partitions) {
    if (out.empty() || out.back().topic != tp.topic) {
      out.emplace_back();
      out.back().topic = std::move(tp.topic);
    }
    out.back().partitions.push_back(tp.partition);
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> nullable(const std::vector<std::uint8_t>& b) {
  if (b.empty()) return std::nullopt;
  return b;
}

// Writes the version prefix then the body; on error `out` is as it was.
template <class M>
std::error_code encode_prefixed(const M& m, std::int16_t version, std::vector<std::uint8_t>& out) {
  if (version < 0 || version > consumer_protocol_version) return client_errc::unknown_api;
  const std::size_t start = out.size();
  protocol::writer w(out);
  w.i16(version);
  if (auto ec = m.encode(out, version)) {
    out.resize(start);
    return ec;
  }
  return {};
}

}  // namespace

std::error_code encode_subscription(const member_subscription& s, std::vector<std::uint8_t>& out,
                                    std::int16_t version) {
  msg::ConsumerProtocolSubscription m;
  m.topics = s.topics;
  std::sort(m.topics.begin(), m.topics.end());
  m.topics.erase(std::unique(m.topics.begin(), m.topics.end()), m.topics.end());
  m.user_data = nullable(s.user_data);
  // Fields the version lacks are dropped here rather than refused by the codec: a member that
  // speaks an older version to an older leader simply does not tell it more.
  if (version >= 1) {
    m.owned_partitions = group_by_topic<msg::ConsumerProtocolSubscription::TopicPartition>(s.owned_partitions);
  }
  if (version >= 2) m.generation_id = s.generation;
  if (version >= 3) m.rack_id = s.rack_id;
  return encode_prefixed(m, version, out);
}

std::error_code decode_subscription(std::span<const std::uint8_t> payload, member_subscription& out) {
  protocol::reader r(payload);
  std::int16_t version = 0;
  if (auto ec = read_version(r, version)) return ec;
  const auto rest = payload.subspan(2);
  std::span<const std::uint8_t> body;
  if (auto ec = body_of(rest, body, [&](protocol::reader& rr) { skip_subscription(rr, version); })) return ec;
  msg::ConsumerProtocolSubscription m;
  if (auto ec = m.decode(body, version)) return ec;

  member_subscription s;
  s.member_id = out.member_id;
  s.group_instance_id = out.group_instance_id;
  s.topics = std::move(m.topics);
  std::sort(s.topics.begin(), s.topics.end());
  s.topics.erase(std::unique(s.topics.begin(), s.topics.end()), s.topics.end());
  append_partitions(m.owned_partitions, s.owned_partitions);
  std::sort(s.owned_partitions.begin(), s.owned_partitions.end());
  s.owned_partitions.erase(std::unique(s.owned_partitions.begin(), s.owned_partitions.end()),
                           s.owned_partitions.end());
  s.generation = m.generation_id;
  if (m.rack_id && !m.rack_id->empty()) s.rack_id = std::move(m.rack_id);
  if (m.user_data) s.user_data = std::move(*m.user_data);
  out = std::move(s);
  return {};
}

std::error_code encode_assignment(const member_assignment& a, std::vector<std::uint8_t>& out, std::int16_t version) {
  msg::ConsumerProtocolAssignment m;
  m.assigned_partitions = group_by_topic<msg::ConsumerProtocolAssignment::TopicPartition>(a.partitions);
  m.user_data = nullable(a.user_data);
  return encode_prefixed(m, version, out);
}

std::error_code decode_assignment(std::span<const std::uint8_t> payload, member_assignment& out) {
  if (payload.empty()) {
    out = member_assignment{};
    return {};
  }
  protocol::reader r(payload);
  std::int16_t version = 0;
  if (auto ec = read_version(r, version)) return ec;
  const auto rest = payload.subspan(2);
  std::span<const std::uint8_t> body;
  if (auto ec = body_of(rest, body, [](protocol::reader& rr) { skip_assignment(rr); })) return ec;
  msg::ConsumerProtocolAssignment m;
  if (auto ec = m.decode(body, version)) return ec;

  member_assignment a;
  append_partitions(m.assigned_partitions, a.partitions);
  std::sort(a.partitions.begin(), a.partitions.end());
  a.partitions.erase(std::unique(a.partitions.begin(), a.partitions.end()), a.partitions.end());
  if (m.user_data) a.user_data = std::move(*m.user_data);
  out = std::move(a);
  return {};
}

}  // namespace asiokafka::consumer
