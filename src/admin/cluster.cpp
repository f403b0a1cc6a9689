// Admin: the cluster (DescribeCluster).
#include <algorithm>
#include <string>
#include <utility>

#include "admin/admin_impl.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka {
namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

asio::awaitable<net::failure> describe_cluster(op_context& ctx, ClusterDescription& out, bool authorized_operations) {
  m::DescribeClusterRequest req;
  req.include_cluster_authorized_operations = authorized_operations;
  typed_request<m::DescribeClusterRequest> call(std::move(req));
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe)) co_return f;
  const auto& r = call.message();
  out.cluster_id = r.cluster_id;
  out.controller_id = r.controller_id;
  for (const auto& b : r.brokers) out.brokers.push_back(BrokerMetadata{b.broker_id, b.host, b.port, b.rack});
  std::sort(out.brokers.begin(), out.brokers.end(),
            [](const BrokerMetadata& a, const BrokerMetadata& b) { return a.node_id < b.node_id; });
  out.authorized_operations = AuthorizedOperations::from_wire(r.cluster_authorized_operations);
  co_return net::failure{};
}

asio::awaitable<net::failure> find_coordinator(op_context& ctx, BrokerMetadata& out, CoordinatorType type,
                                               const std::string& key) {
  net::outcome<BrokerMetadata> found = co_await ctx.cluster->coordinators().find(type, key, ctx.deadline);
  if (!found) co_return std::move(found.error().prefix(ctx.name));
  out = std::move(found).value();
  if (const BrokerMetadata* b = ctx.cluster->metadata().cache().broker(out.node_id)) out.rack = b->rack;
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_find_coordinator(std::shared_ptr<admin_state> s, BrokerMetadata& out,
                                                 CoordinatorType type, std::string key, FindCoordinatorOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "find_coordinator");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await find_coordinator(ctx.value(), out, type, key));
}

asio::awaitable<op_error> admin_describe_cluster(std::shared_ptr<admin_state> s, ClusterDescription& out,
                                                 DescribeClusterOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_cluster");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_cluster(ctx.value(), out, options.include_authorized_operations));
}

}  // namespace detail
}  // namespace asiokafka
