// The typed answer to a request sent through a Client (or, inside the library, a connection).
#pragma once

#include <cstdint>

#include "asiokafka/buffer.hpp"

namespace asiokafka {

/// A decoded response. Records fields of `message` (e.g. FetchResponse) are views into
/// `storage`, which the response keeps alive; copying a response shares the bytes.
template <class Message>
struct response {
  Message message;
  /// The API version the request was sent (and the response decoded) in.
  std::int16_t version = 0;
  /// The broker that answered (its node id; negative for a bootstrap address).
  std::int32_t node_id = -1;
  /// The generation of the connection that carried it: it changes whenever the connection to
  /// this broker (for this purpose) is replaced, e.g. after a reconnect. State a broker keeps
  /// per connection (a fetch session) must start over when it changes.
  std::uint64_t connection_generation = 0;
  frame storage;

  const Message* operator->() const noexcept { return &message; }
  Message* operator->() noexcept { return &message; }
};

}  // namespace asiokafka
