// The incremental fetch session (fetch_session.hpp): building requests from the wanted
// partitions and the held state, and moving the session id and epoch on each outcome.
#include "consumer/sansio/fetch_session.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "asiokafka/kafka_error.hpp"

namespace asiokafka::consumer {

namespace {

namespace msg = protocol::messages;

constexpr protocol::uuid zero_id{};

// The epoch after `epoch` in a live session: 1..INT32_MAX, then around to 1 (0 and -1 have
// their own meanings).
std::int32_t next_epoch_after(std::int32_t epoch) noexcept {
  return epoch == std::numeric_limits<std::int32_t>::max() ? 1 : epoch + 1;
}

// Groups partitions of one topic into one entry of a request's topic list.
class topic_lists {
 public:
  explicit topic_lists(msg::FetchRequest& request) : request_(request) {}

  void list(std::string_view topic, const protocol::uuid& id, msg::FetchRequest::FetchPartition partition) {
    auto [at, added] = listed_.try_emplace(topic, request_.topics.size());
    if (added) {
      auto& t = request_.topics.emplace_back();
      t.topic = std::string(topic);
      t.topic_id = id;
    }
    request_.topics[at->second].partitions.push_back(std::move(partition));
    ++listed_count;
  }

  void forget(std::string_view topic, const protocol::uuid& id, std::int32_t partition) {
    auto [at, added] = forgotten_.try_emplace(std::pair(std::string(topic), id), request_.forgotten_topics_data.size());
    if (added) {
      auto& t = request_.forgotten_topics_data.emplace_back();
      t.topic = std::string(topic);
      t.topic_id = id;
    }
    request_.forgotten_topics_data[at->second].partitions.push_back(partition);
    ++forgotten_count;
  }

  std::size_t listed_count = 0;
  std::size_t forgotten_count = 0;

 private:
  msg::FetchRequest& request_;
  // Keys view the wants' topic names, which outlive the build() that uses this.
  std::map<std::string_view, std::size_t> listed_;
  std::map<std::pair<std::string, protocol::uuid>, std::size_t> forgotten_;
};

}  // namespace

fetch_plan fetch_session::build(std::span<const fetch_want> wanted, std::int16_t max_version,
                                msg::FetchRequest& request) {
  if (pending_) on_failure();

  const bool all_ids = std::all_of(wanted.begin(), wanted.end(),
                                   [](const fetch_want& w) { return w.topic_id != zero_id; });
  const bool use_ids = max_version >= first_topic_id_version && all_ids;
  const std::int16_t version =
      use_ids ? max_version : std::min<std::int16_t>(max_version, first_topic_id_version - 1);
  const bool sessionless = version < first_session_version;

  fetch_plan plan;
  plan.version = version;
  request.topics.clear();
  request.forgotten_topics_data.clear();

  if (sessionless) {
    // Nothing to close: a broker without sessions cannot hold one of ours.
    id_ = no_session_id;
    epoch_ = initial_epoch;
    request.session_id = no_session_id;
    request.session_epoch = final_epoch;
  } else {
    // A session built by names cannot go on by ids (or back): start a new one.
    if (use_ids != uses_ids_) epoch_ = initial_epoch;
    request.session_id = id_;
    request.session_epoch = epoch_;
  }
  plan.full = sessionless || epoch_ == initial_epoch;
  uses_ids_ = use_ids;
  version_ = version;
  pending_ = true;
  pending_full_ = plan.full;
  ++build_;

  // The partition as this version carries it: what the broker will hold.
  auto as_held = [&](const fetch_want& w, std::size_t index) {
    held h;
    h.topic_id = use_ids ? w.topic_id : zero_id;
    h.fetch_offset = w.fetch_offset;
    h.current_leader_epoch = version >= 9 ? w.current_leader_epoch : -1;
    h.last_fetched_epoch = version >= 12 ? w.last_fetched_epoch : -1;
    h.log_start_offset = version >= 5 ? w.log_start_offset : -1;
    h.partition_max_bytes = w.partition_max_bytes;
    h.want = index;
    h.wanted_in = build_;
    return h;
  };
  topic_lists lists(request);
  auto list = [&](std::string_view topic, std::int32_t partition, const held& h) {
    msg::FetchRequest::FetchPartition p;
    p.partition = partition;
    p.current_leader_epoch = h.current_leader_epoch;
    p.fetch_offset = h.fetch_offset;
    p.last_fetched_epoch = h.last_fetched_epoch;
    p.log_start_offset = h.log_start_offset;
    p.partition_max_bytes = h.partition_max_bytes;
    lists.list(topic, h.topic_id, std::move(p));
  };

  topic_names_.clear();
  if (use_ids) {
    for (const auto& w : wanted) topic_names_.try_emplace(w.topic_id, w.topic);
  }

  if (plan.full) {
    held_.clear();
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      const fetch_want& w = wanted[i];
      auto [at, added] = held_.try_emplace(key{w.topic, w.partition}, as_held(w, i));
      if (added) list(w.topic, w.partition, at->second);
    }
  } else {
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      const fetch_want& w = wanted[i];
      held next = as_held(w, i);
      auto at = held_.find(key_view{w.topic, w.partition});
      if (at == held_.end()) {
        at = held_.try_emplace(key{w.topic, w.partition}, next).first;
        list(w.topic, w.partition, next);
        continue;
      }
      held& now = at->second;
      if (now.wanted_in == build_) continue;  // a duplicate want
      if (use_ids && now.topic_id != next.topic_id) {
        // The topic was re-created: the broker must drop the old topic's partition.
        lists.forget(w.topic, now.topic_id, w.partition);
        now = next;
        list(w.topic, w.partition, now);
      } else if (!(now == next)) {
        now = next;
        list(w.topic, w.partition, now);
      } else {
        now.want = i;
        now.wanted_in = build_;
      }
    }
    for (auto at = held_.begin(); at != held_.end();) {
      if (at->second.wanted_in == build_) {
        ++at;
        continue;
      }
      lists.forget(at->first.topic, at->second.topic_id, at->first.partition);
      at = held_.erase(at);
    }
  }
  plan.listed = lists.listed_count;
  plan.forgotten = lists.forgotten_count;
  return plan;
}

const fetch_session::held* fetch_session::find_response_partition(
    const msg::FetchResponse::FetchableTopicResponse& topic, std::int32_t partition) const {
  std::string_view name = topic.topic;
  if (version_ >= first_topic_id_version) {
    auto named = topic_names_.find(topic.topic_id);
    if (named == topic_names_.end()) return nullptr;
    name = named->second;
  }
  auto at = held_.find(key_view{name, partition});
  return at == held_.end() ? nullptr : &at->second;
}

fetch_response_result fetch_session::on_response(const msg::FetchResponse& response) {
  fetch_response_result result;
  if (!pending_) {
    result.status = fetch_response_status::unexpected;
    return result;
  }
  pending_ = false;
  ++round_;

  if (response.error_code != 0) {
    result.status = fetch_response_status::error;
    result.error = make_kafka_error(response.error_code);
    // Without the session the broker knows no id of ours; with any other error it may still
    // hold one, which the next (full) request closes.
    reset_to_full(response.error_code == static_cast<std::int16_t>(kafka_errc::fetch_session_id_not_found));
    return result;
  }

  std::size_t named = 0;
  bool unknown = false;
  for (const auto& topic : response.responses) {
    for (const auto& p : topic.partitions) {
      const held* h = find_response_partition(topic, p.partition_index);
      if (h == nullptr) {
        unknown = true;
        break;
      }
      if (h->seen != round_) {
        h->seen = round_;
        ++named;
      }
      result.partitions.push_back({h->want, &p});
    }
    if (unknown) break;
  }

  if (pending_full_) {
    if (named == 0 && response.throttle_time_ms > 0 && !held_.empty()) {
      // KIP-219: a throttled broker answers a full request at once with no partitions.
      result.status = fetch_response_status::throttled;
      result.partitions.clear();
      reset_to_full(true);
      return result;
    }
    if (unknown || named != held_.size()) {
      result.status = fetch_response_status::invalid;
      result.partitions.clear();
      reset_to_full(true);
      return result;
    }
    // Before v7 the field does not exist and decodes as 0: no session, as intended.
    id_ = response.session_id;
    epoch_ = id_ == no_session_id ? initial_epoch : next_epoch_after(initial_epoch);
    return result;
  }

  if (unknown) {
    result.status = fetch_response_status::invalid;
    result.partitions.clear();
    reset_to_full(false);
    return result;
  }
  if (response.session_id == no_session_id) {
    // The broker ended the session (it may evict sessions): this answer still counts.
    id_ = no_session_id;
    epoch_ = initial_epoch;
  } else {
    epoch_ = next_epoch_after(epoch_);
  }
  return result;
}

void fetch_session::on_failure() {
  if (!pending_) return;
  pending_ = false;
  reset_to_full(false);
}

std::optional<std::int16_t> fetch_session::close(msg::FetchRequest& request) {
  const std::int32_t id = id_;
  const std::int16_t version = version_;
  pending_ = false;
  reset_to_full(true);
  uses_ids_ = false;
  if (id == no_session_id || version < first_session_version) return std::nullopt;
  request.session_id = id;
  request.session_epoch = final_epoch;
  request.topics.clear();
  request.forgotten_topics_data.clear();
  return version;
}

void fetch_session::reset_to_full(bool forget_id) {
  if (forget_id) id_ = no_session_id;
  epoch_ = initial_epoch;
  // The next request is full and lists everything anew.
  held_.clear();
  topic_names_.clear();
}

}  // namespace asiokafka::consumer
