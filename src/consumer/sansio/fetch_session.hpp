// One broker's incremental fetch session (KIP-227), sans-I/O: which partitions the next
// FetchRequest lists, with which session id and epoch, what it asks the broker to forget, and
// what a response (or its absence) does to the session. No clocks, no I/O: the consumer's fetch
// loop for that broker calls build() before each request and on_response() or on_failure()
// after it; one request at a time.
//
// The rules (KIP-227 and the Fetch schema; docs/consumer.md repeats them):
// - Session id 0 with epoch 0 asks for a new session; (id, 0) closes session `id` and asks for
//   a new one; (id, n > 0) is an incremental request in session `id`; (id, -1) closes it with
//   nothing new; (0, -1) is the sessionless full fetch of brokers before Fetch v7.
// - A full request lists every wanted partition. An incremental one lists only partitions that
//   are new to the session or whose fetch offset, max bytes, leader epoch, last fetched epoch,
//   log start offset (each as far as the version carries it) or topic id differ from what the
//   broker holds, and forgets those no longer wanted. Unlisted ones stay as the broker holds
//   them. A partition the caller does not want this round (paused, or its buffer not yet
//   drained) is forgotten, as the Java client does: if it stayed, the broker would keep
//   fetching from its old offset for every response.
// - After a response the epoch advances (wrapping from INT32_MAX to 1). A response with
//   session id 0 means there is no session: the next request is full again and asks anew.
//   FETCH_SESSION_ID_NOT_FOUND forgets the id; any other top-level error, a response that does
//   not match the session, or no response at all (failure, timeout, cancellation: the broker
//   may or may not have applied the request) makes the next request a full one that closes
//   the old session and asks for a new one.
// - Fetch before v7 has no sessions: every request is full and sessionless (0, -1).
// - Topic ids (Fetch v13+) are used only when every wanted partition has one; otherwise the
//   version is capped at 12 and topics go by name. Switching between ids and names makes the
//   next request full, so one session never mixes the two. In id mode a partition whose topic
//   id changed (topic re-created) is forgotten under the old id and added under the new one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/messages/fetch.hpp"

namespace asiokafka::consumer {

/// One partition the consumer wants from this broker in the coming request, as it wants it.
struct fetch_want {
  std::string topic;
  protocol::uuid topic_id{};  ///< all zero: unknown (then topics go by name)
  std::int32_t partition = 0;
  std::int64_t fetch_offset = 0;
  std::int32_t current_leader_epoch = -1;  ///< -1: unknown (sent from v9)
  std::int32_t last_fetched_epoch = -1;    ///< -1: none (sent from v12)
  std::int64_t log_start_offset = -1;      ///< -1 for consumers (a follower's field)
  std::int32_t partition_max_bytes = 0;
};

/// What build() decided.
struct fetch_plan {
  std::int16_t version = 0;  ///< send in exactly this version (<= the max given)
  bool full = true;          ///< every wanted partition listed (else only the changes)
  std::size_t listed = 0;    ///< partitions in the request's topics
  std::size_t forgotten = 0; ///< partitions in its forgotten_topics_data
};

/// One partition of a response, mapped back to the caller's wants.
struct fetch_partition_result {
  std::size_t want = 0;  ///< index into the `wanted` given to the build() this answers
  const protocol::messages::FetchResponse::PartitionData* data = nullptr;  ///< into the response
};

enum class fetch_response_status {
  ok,         ///< `partitions` holds every partition of the response (error codes included)
  error,      ///< a top-level error (`error`): it applies to every partition of the request
  invalid,    ///< the response does not match the session (omitted or unknown partitions):
              ///< its data is unusable, the next request is full
  throttled,  ///< an empty full response with a throttle time (KIP-219): wait, then retry
  unexpected, ///< no request was outstanding (a late answer, or one to close()): ignored
};

struct fetch_response_result {
  fetch_response_status status = fetch_response_status::ok;
  std::error_code error;  ///< with status error: the broker's top-level code
  /// With status ok: the response's partitions. Partitions of the session that an
  /// incremental response omits had no new data.
  std::vector<fetch_partition_result> partitions;
};

class fetch_session {
 public:
  static constexpr std::int32_t no_session_id = 0;
  static constexpr std::int32_t initial_epoch = 0;  ///< asks for a new session (full fetch)
  static constexpr std::int32_t final_epoch = -1;   ///< closes the session (or: no session)
  static constexpr std::int16_t first_session_version = 7;
  static constexpr std::int16_t first_topic_id_version = 13;

  /// Fills `request`'s session_id, session_epoch, topics and forgotten_topics_data (the rest,
  /// such as max_wait_ms or isolation_level, is the caller's) for `wanted`, each partition at
  /// most once (later duplicates are ignored), in the order given (grouped by topic in order
  /// of first appearance). `max_version` is the highest Fetch version the connection may use.
  /// A build() while a request is outstanding gives that request up as on_failure() does.
  fetch_plan build(std::span<const fetch_want> wanted, std::int16_t max_version,
                   protocol::messages::FetchRequest& request);

  /// The answer to the request of the last build(). Partition errors leave the session as
  /// it is: the caller drops or changes those partitions in its next wants.
  fetch_response_result on_response(const protocol::messages::FetchResponse& response);

  /// The request of the last build() got no answer (connection lost, timeout, cancelled).
  void on_failure();

  /// A request that closes the session (epoch -1, no partitions) for a clean stop, and the
  /// version to send it in; nullopt when there is no session to close. Either way the session
  /// is forgotten here: the next build() starts afresh. Its answer needs no handling.
  std::optional<std::int16_t> close(protocol::messages::FetchRequest& request);

  /// The session id the next request carries (0: none).
  std::int32_t session_id() const noexcept { return id_; }
  /// The epoch the next request carries, unless build() finds it must be full (a change of
  /// version family); 0 means full.
  std::int32_t next_epoch() const noexcept { return epoch_; }
  /// A request was built and neither answered nor failed.
  bool pending() const noexcept { return pending_; }
  /// Partitions the broker holds (or will, once the pending request is applied).
  std::size_t size() const noexcept { return held_.size(); }

 private:
  struct key {
    std::string topic;
    std::int32_t partition = 0;
  };
  struct key_view {
    std::string_view topic;
    std::int32_t partition = 0;
  };
  struct key_less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      const std::string_view at = a.topic, bt = b.topic;
      return at < bt || (at == bt && a.partition < b.partition);
    }
  };
  // A partition as the broker holds it: the fields of the last request that listed it, with
  // those its version cannot carry at their defaults.
  struct held {
    protocol::uuid topic_id{};
    std::int64_t fetch_offset = 0;
    std::int32_t current_leader_epoch = -1;
    std::int32_t last_fetched_epoch = -1;
    std::int64_t log_start_offset = -1;
    std::int32_t partition_max_bytes = 0;
    std::size_t want = 0;            // its index in the latest build()'s wants
    std::uint64_t wanted_in = 0;     // the build (build_) that last wanted it
    mutable std::uint64_t seen = 0;  // the response (round_) that last named it
    friend bool operator==(const held& a, const held& b) noexcept {
      return a.topic_id == b.topic_id && a.fetch_offset == b.fetch_offset &&
             a.current_leader_epoch == b.current_leader_epoch && a.last_fetched_epoch == b.last_fetched_epoch &&
             a.log_start_offset == b.log_start_offset && a.partition_max_bytes == b.partition_max_bytes;
    }
  };

  void reset_to_full(bool forget_id);
  const held* find_response_partition(const protocol::messages::FetchResponse::FetchableTopicResponse& topic,
                                      std::int32_t partition) const;

  std::int32_t id_ = no_session_id;
  std::int32_t epoch_ = initial_epoch;
  bool uses_ids_ = false;       // the session's partitions go by topic id (v13+)
  bool pending_ = false;        // a request is outstanding
  bool pending_full_ = true;    // ... and it was a full one
  std::int16_t version_ = 0;    // the version of the last built request
  std::uint64_t build_ = 0;     // counts builds, for held::wanted_in
  std::uint64_t round_ = 0;     // counts responses, for held::seen
  // What the broker holds once the last request is applied. Updated when the request is
  // built: if it then fails, the next request is full and replaces all of it, so the state
  // before the request is never needed again (an incremental request is only built after a
  // response confirmed the state it is relative to).
  std::map<key, held, key_less> held_;
  std::map<protocol::uuid, std::string> topic_names_;  // id mode: topic id -> name
};

}  // namespace asiokafka::consumer
