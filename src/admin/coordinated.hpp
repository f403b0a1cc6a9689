// Admin operations on keys owned by coordinators (groups, transactional ids; groups.cpp and
// transactions.cpp): keys grouped by coordinator so that each is asked once for all of its
// keys, and the per-key coordinator errors that ask for another round.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "admin/admin_impl.hpp"

namespace asiokafka::admin {

/// The keys one coordinator is asked about together (indexes into the operation's keys).
struct coordinator_batch {
  BrokerMetadata coordinator;
  std::vector<std::size_t> items;
};

/// The broker that answered (`node`, from the request), as the metadata knows it; `fallback`
/// (the coordinator the batch was built for) when the metadata does not name it.
BrokerMetadata answered_by(const op_context& ctx, std::int32_t node, const BrokerMetadata& fallback);

/// Finds the coordinator of each key at `pending` (cached, else FindCoordinator, within the
/// deadline) and groups the keys by it. A key whose coordinator cannot be found goes to
/// `failed` with why. Returns a failure only when the operation must end (closed, cancelled).
boost::asio::awaitable<net::failure> batch_by_coordinator(op_context& ctx, CoordinatorType type,
                                                          const std::vector<std::string>& keys,
                                                          const std::vector<std::size_t>& pending,
                                                          std::vector<coordinator_batch>& batches,
                                                          std::vector<std::pair<std::size_t, net::failure>>& failed);

/// Whether `code`, a key's error in an answer, says its coordinator moved or is not ready
/// (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS): the key is to
/// be asked again, after forgetting the coordinator when it must be found again.
bool coordinator_moved(op_context& ctx, CoordinatorType type, const std::string& key, std::int16_t code);

/// A route to the coordinator of `key`. A batch is routed by its first key: the others went
/// to the same coordinator when the batch was made, and answer NOT_COORDINATOR otherwise.
detail::route to_coordinator(CoordinatorType type, const std::string& key);

/// Prepares the next round for the items in `again` (they move to `pending`): false when
/// there are none, or no time is left for another attempt after retry_backoff (the last
/// answers then stand). `why` is the reason, kept for the timeout's message.
boost::asio::awaitable<bool> next_round(op_context& ctx, std::vector<std::size_t>& pending,
                                        std::vector<std::size_t>& again, const std::string& why);

/// Sets the item error of every lookup that failed: `label(i)` names item i.
template <class Result, class Label>
void set_lookup_failures(std::vector<Result>& out, const std::vector<std::pair<std::size_t, net::failure>>& failed,
                         Label label) {
  for (const auto& f : failed) set_item_error(out[f.first], f.second.code, f.second.message, label(f.first));
}

/// The rounds of an operation on keys owned by coordinators: the keys at `pending` are
/// grouped by coordinator and `ask(batch, again)` (a coroutine: it asks one coordinator about
/// its keys and records their results in `out`) runs for each group; the keys it puts in
/// `again` (their coordinator moved) make the next round, retry_backoff later, while the
/// deadline allows. A key whose coordinator cannot be found gets the lookup's error, named by
/// `label(i)`. A failure `ask` returns ends the operation.
template <class Result, class Label, class Ask>
boost::asio::awaitable<net::failure> coordinator_rounds(op_context& ctx, CoordinatorType type,
                                                        const std::vector<std::string>& keys,
                                                        std::vector<std::size_t> pending, std::vector<Result>& out,
                                                        Label& label, Ask& ask) {
  std::vector<std::size_t> again;
  while (!pending.empty()) {
    std::vector<coordinator_batch> batches;
    std::vector<std::pair<std::size_t, net::failure>> failed;
    if (net::failure f = co_await batch_by_coordinator(ctx, type, keys, pending, batches, failed)) co_return f;
    set_lookup_failures(out, failed, label);
    for (const auto& batch : batches) {
      if (net::failure f = co_await ask(batch, again)) co_return f;
    }
    const std::string why = again.empty() ? std::string() : out[again.front()].error_message;
    const bool more = co_await next_round(ctx, pending, again, why);
    if (!more && ctx.cancelled) co_return ctx.stop_failure();
    if (!more) break;
  }
  co_return net::failure{};
}

}  // namespace asiokafka::admin
