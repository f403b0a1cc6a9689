// Admin: what the brokers report about themselves. DescribeLogDirs and ApiVersions go to each
// broker (all at once, merged; a broker that fails is an error on its own entry); the
// features come from one broker's ApiVersions (v3+); UpdateFeatures goes to the controller.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "admin/admin_impl.hpp"
#include "admin/fanout.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/version.hpp"

namespace asiokafka {
namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

constexpr std::chrono::milliseconds fanout_grace{2000};

std::string broker_label(std::int32_t id) { return "broker " + std::to_string(id); }

/// One broker's request; owns what it touches (it may outlive the operation's frame).
template <class Request>
struct broker_job {
  broker_job(op_context c, std::int32_t id, Request r, std::int16_t min_version)
      : ctx(std::move(c)), node(id), call(std::move(r), min_version, Request::max_version) {}
  op_context ctx;
  std::int32_t node;
  typed_request<Request> call;
  net::failure failure;
  bool done = false;
};

template <class Request>
asio::awaitable<void> run_job(std::shared_ptr<broker_job<Request>> j) {
  route to_broker;
  to_broker.target = route::kind::node;
  to_broker.node_id = j->node;
  j->failure = co_await admin::call(j->ctx, to_broker, j->call, admin::repeat::safe);
  j->done = true;
}

/// The cluster's broker ids, by id (the metadata refreshed first when it names none, or when
/// `wanted` has ids it does not know).
asio::awaitable<net::failure> broker_ids(op_context& ctx, const std::vector<std::int32_t>& wanted,
                                         std::vector<std::int32_t>& out) {
  auto& metadata = ctx.cluster->metadata();
  bool refresh = metadata.cache().brokers().empty();
  for (std::int32_t id : wanted) refresh = refresh || metadata.cache().broker(id) == nullptr;
  if (refresh) {
    net::failure f = co_await metadata.refresh(std::vector<std::string>(), false, ctx.deadline);
    if (f) co_return f.prefix(ctx.name);
  }
  for (const BrokerMetadata& b : metadata.cache().brokers()) out.push_back(b.node_id);
  co_return net::failure{};
}

/// Sends one request per broker of `ids` (each made by `make`), all at once. A result per id
/// of `ids` in `out` (by index) gets the broker's failure; `read` fills the others.
template <class Request, class Result, class Make, class Read>
asio::awaitable<net::failure> each_broker(op_context& ctx, std::shared_ptr<void> owner,
                                          const std::vector<std::int32_t>& ids, std::vector<Result>& out, Make make,
                                          std::int16_t min_version, Read read) {
  std::vector<std::int32_t> known;
  if (net::failure f = co_await broker_ids(ctx, ids, known)) co_return f;
  const std::vector<std::int32_t>& targets = ids.empty() ? known : ids;
  std::map<std::int32_t, std::shared_ptr<broker_job<Request>>> jobs;
  for (std::int32_t id : targets) {
    Result r;
    r.broker_id = id;
    if (std::find(known.begin(), known.end(), id) == known.end()) {
      admin::set_item_error(r, client_errc::invalid_argument, "not a broker of the cluster", broker_label(id));
    } else if (!jobs.contains(id)) {
      jobs.emplace(id, std::make_shared<broker_job<Request>>(ctx, id, make(), min_version));
    }
    out.push_back(std::move(r));
  }
  std::vector<asio::awaitable<void>> tasks;
  for (auto it = jobs.begin(); it != jobs.end(); ++it) tasks.push_back(run_job(it->second));
  const net::wait_status status = co_await admin::run_all(std::move(tasks), owner, ctx.deadline + fanout_grace);
  if (status == net::wait_status::cancelled) {
    co_return net::failure(std::make_error_code(std::errc::operation_canceled), ctx.name + ": cancelled");
  }
  for (Result& r : out) {
    auto it = jobs.find(r.broker_id);
    if (it == jobs.end()) continue;
    const broker_job<Request>& j = *it->second;
    if (!j.done) {
      admin::set_item_error(r, client_errc::timeout, "no answer within the timeout", broker_label(r.broker_id));
    } else if (j.failure) {
      if (admin::ends_operation(j.failure)) co_return j.failure;
      admin::set_item_error(r, j.failure.code, j.failure.message, broker_label(r.broker_id));
    } else {
      read(j.call.message(), r);
    }
  }
  co_return net::failure{};
}

asio::awaitable<net::failure> describe_log_dirs(op_context& ctx, std::shared_ptr<void> owner,
                                                std::vector<BrokerLogDirs>& out, const std::vector<std::int32_t>& ids) {
  auto make = [] {
    m::DescribeLogDirsRequest req;
    req.topics = std::nullopt;  // every replica
    return req;
  };
  auto read = [](const m::DescribeLogDirsResponse& resp, BrokerLogDirs& r) {
    for (const auto& d : resp.results) {
      LogDirDescription dir;
      dir.path = d.log_dir;
      admin::set_item_error(dir, d.error_code, std::nullopt, broker_label(r.broker_id) + " log dir '" + d.log_dir + "'");
      if (d.total_bytes >= 0) dir.total_bytes = d.total_bytes;
      if (d.usable_bytes >= 0) dir.usable_bytes = d.usable_bytes;
      for (const auto& t : d.topics) {
        for (const auto& p : t.partitions) {
          ReplicaLogInfo info;
          info.topic_partition = TopicPartition(t.name, p.partition_index);
          info.size_bytes = p.partition_size;
          info.offset_lag = p.offset_lag;
          info.is_future = p.is_future_key;
          dir.replicas.push_back(std::move(info));
        }
      }
      std::sort(dir.replicas.begin(), dir.replicas.end(), [](const ReplicaLogInfo& a, const ReplicaLogInfo& b) {
        return std::tie(a.topic_partition, a.is_future) < std::tie(b.topic_partition, b.is_future);
      });
      r.dirs.push_back(std::move(dir));
    }
    std::sort(r.dirs.begin(), r.dirs.end(),
              [](const LogDirDescription& a, const LogDirDescription& b) { return a.path < b.path; });
  };
  co_return co_await each_broker<m::DescribeLogDirsRequest>(ctx, std::move(owner), ids, out, make,
                                                            m::DescribeLogDirsRequest::min_version, read);
}

m::ApiVersionsRequest api_versions_request() {
  m::ApiVersionsRequest req;
  // v3+ requires both (KIP-511), as the connection's own handshake sends them.
  req.client_software_name = software_name;
  req.client_software_version = version_string;
  return req;
}

asio::awaitable<net::failure> describe_api_versions(op_context& ctx, std::shared_ptr<void> owner,
                                                    std::vector<BrokerApiVersions>& out) {
  auto read = [](const m::ApiVersionsResponse& resp, BrokerApiVersions& r) {
    for (const auto& a : resp.api_keys) {
      ApiVersionInfo range;
      range.api_key = a.api_key;
      if (const auto* known = protocol::find_api(a.api_key)) range.name = std::string(known->name);
      range.min_version = a.min_version;
      range.max_version = a.max_version;
      r.apis.push_back(std::move(range));
    }
    std::sort(r.apis.begin(), r.apis.end(),
              [](const ApiVersionInfo& a, const ApiVersionInfo& b) { return a.api_key < b.api_key; });
  };
  const std::vector<std::int32_t> every_broker;
  co_return co_await each_broker<m::ApiVersionsRequest>(ctx, std::move(owner), every_broker, out,
                                                        &api_versions_request, m::ApiVersionsRequest::min_version,
                                                        read);
}

asio::awaitable<net::failure> describe_features(op_context& ctx, FeatureMetadata& out) {
  // Features are in ApiVersions v3+ (KIP-584's tagged fields).
  typed_request<m::ApiVersionsRequest> call(api_versions_request(), 3, m::ApiVersionsRequest::max_version);
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe)) co_return f;
  const auto& r = call.message();
  for (const auto& f : r.finalized_features) {
    FinalizedFeatureLevels levels;
    levels.min_level = f.min_version_level;
    levels.max_level = f.max_version_level;
    out.finalized[f.name] = levels;
  }
  for (const auto& f : r.supported_features) {
    SupportedFeatureVersions versions;
    versions.min_version = f.min_version;
    versions.max_version = f.max_version;
    out.supported[f.name] = versions;
  }
  if (r.finalized_features_epoch >= 0) out.finalized_epoch = r.finalized_features_epoch;
  out.broker_id = call.node_id;
  co_return net::failure{};
}

asio::awaitable<net::failure> update_features(op_context& ctx, std::vector<UpdateFeatureResult>& out,
                                              const std::map<std::string, FeatureUpdate>& updates,
                                              bool validate_only) {
  m::UpdateFeaturesRequest req;
  req.timeout_ms = static_cast<std::int32_t>(ctx.request_bound().count());
  req.validate_only = validate_only;  // v1+
  for (auto it = updates.begin(); it != updates.end(); ++it) {
    m::UpdateFeaturesRequest::FeatureUpdateKey k;
    k.feature = it->first;
    k.max_version_level = it->second.max_level;
    k.upgrade_type = static_cast<std::int8_t>(it->second.upgrade_type);  // v1+
    req.feature_updates.push_back(std::move(k));
    UpdateFeatureResult r;
    r.feature = it->first;
    out.push_back(std::move(r));
  }
  if (updates.empty()) co_return net::failure{};
  const std::int16_t min_version = validate_only ? std::int16_t{1} : m::UpdateFeaturesRequest::min_version;
  typed_request<m::UpdateFeaturesRequest> call(std::move(req), min_version, m::UpdateFeaturesRequest::max_version);
  // v0 has allow_downgrade instead of the upgrade type.
  call.set_version_hook([](std::int16_t v, m::UpdateFeaturesRequest& r) {
    if (v == 0) {
      for (auto& k : r.feature_updates) {
        k.allow_downgrade = k.upgrade_type != static_cast<std::int8_t>(FeatureUpgradeType::upgrade);
        k.upgrade_type = 1;
      }
    }
    return std::error_code();
  });
  route controller;
  controller.target = route::kind::controller;
  const net::failure f = co_await admin::call(ctx, controller, call, admin::repeat::once);
  const std::int16_t top = call.top_level_error();
  if (f && !(top != 0 && f.code == make_kafka_error(top))) co_return f;
  const auto& r = call.message();
  for (UpdateFeatureResult& res : out) {
    const std::string label = "feature '" + res.feature + "'";
    if (top != 0) {
      // The request failed as a whole (v2 answers only so): every feature carries it.
      admin::set_item_error(res, top, r.error_message, label);
      continue;
    }
    if (call.version >= 2) continue;  // v2: no per-feature results; success for all
    auto it = std::find_if(r.results.begin(), r.results.end(), [&](const auto& x) { return x.feature == res.feature; });
    if (it == r.results.end()) {
      admin::set_item_error(res, client_errc::malformed, "the broker's answer does not mention it", label);
    } else {
      admin::set_item_error(res, it->error_code, it->error_message, label);
    }
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_describe_log_dirs(std::shared_ptr<admin_state> s, std::vector<BrokerLogDirs>& out,
                                                  std::vector<std::int32_t> broker_ids, DescribeLogDirsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_log_dirs");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_log_dirs(ctx.value(), s, out, broker_ids));
}

asio::awaitable<op_error> admin_describe_api_versions(std::shared_ptr<admin_state> s,
                                                      std::vector<BrokerApiVersions>& out,
                                                      DescribeApiVersionsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_api_versions");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_api_versions(ctx.value(), s, out));
}

asio::awaitable<op_error> admin_describe_features(std::shared_ptr<admin_state> s, FeatureMetadata& out,
                                                  DescribeFeaturesOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_features");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_features(ctx.value(), out));
}

asio::awaitable<op_error> admin_update_features(std::shared_ptr<admin_state> s, std::vector<UpdateFeatureResult>& out,
                                                std::map<std::string, FeatureUpdate> updates,
                                                UpdateFeaturesOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "update_features");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await update_features(ctx.value(), out, updates, options.validate_only));
}

}  // namespace detail
}  // namespace asiokafka
