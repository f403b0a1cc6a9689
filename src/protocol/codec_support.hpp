// Helpers used by the generated message codecs (src/protocol/generated/*.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/message_types.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::protocol::messages::detail {

inline constexpr std::size_t max_string_length = 0x7fff;
inline constexpr std::size_t max_array_length = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1);

inline std::error_code put_string(writer& w, const std::string& s, bool flex) {
  if (s.size() > max_string_length) return client_errc::malformed;
  if (flex) {
    w.compact_string(s);
  } else {
    w.string(s);
  }
  return {};
}

inline std::error_code put_nullable_string(writer& w, const std::optional<std::string>& s, bool flex) {
  if (s && s->size() > max_string_length) return client_errc::malformed;
  std::optional<std::string_view> view;
  if (s) view = *s;
  if (flex) {
    w.compact_nullable_string(view);
  } else {
    w.nullable_string(view);
  }
  return {};
}

inline std::error_code put_span(writer& w, std::optional<std::span<const std::uint8_t>> b, bool flex) {
  if (b && b->size() > max_array_length) return client_errc::malformed;
  if (flex) {
    w.compact_nullable_bytes(b);
  } else {
    w.nullable_bytes(b);
  }
  return {};
}

inline std::error_code put_bytes(writer& w, const std::vector<std::uint8_t>& b, bool flex) {
  return put_span(w, std::span<const std::uint8_t>(b), flex);
}

inline std::error_code put_nullable_bytes(writer& w, const std::optional<std::vector<std::uint8_t>>& b,
                                          bool flex) {
  std::optional<std::span<const std::uint8_t>> view;
  if (b) view = std::span<const std::uint8_t>(*b);
  return put_span(w, view, flex);
}

inline std::error_code put_records(writer& w, const RecordsView& r, bool flex, bool nullable) {
  if (!r.data && !nullable) return client_errc::malformed;
  if (!r.data) return put_span(w, r.data, flex);
  const auto b = *r.data;
  if (b.size() > max_array_length) return client_errc::malformed;
  if (flex) {
    w.uvarint(static_cast<std::uint32_t>(b.size() + 1));
  } else {
    w.i32(static_cast<std::int32_t>(b.size()));
  }
  w.records_bytes(b);  // copied, or left for a gathering write
  return {};
}

inline std::error_code put_length(writer& w, std::size_t n, bool flex) {
  if (n > max_array_length) return client_errc::malformed;
  const auto len = static_cast<std::int32_t>(n);
  if (flex) {
    w.compact_array_length(len);
  } else {
    w.array_length(len);
  }
  return {};
}

template <class T, class F>
std::error_code put_array(writer& w, const std::vector<T>& a, bool flex, F&& elem) {
  if (auto ec = put_length(w, a.size(), flex)) return ec;
  for (const auto& e : a) {
    if (auto ec = elem(w, e)) return ec;
  }
  return {};
}

template <class T, class F>
std::error_code put_nullable_array(writer& w, const std::optional<std::vector<T>>& a, bool flex, F&& elem) {
  if (!a) {
    if (flex) {
      w.uvarint(0);
    } else {
      w.array_length(-1);
    }
    return {};
  }
  return put_array(w, *a, flex, elem);
}

inline std::error_code put_tag_size(writer& w, std::size_t n) {
  if (n > std::numeric_limits<std::uint32_t>::max()) return client_errc::malformed;
  w.uvarint(static_cast<std::uint32_t>(n));
  return {};
}

inline void put_tag(writer& w, const TaggedField& t) {
  w.uvarint(t.tag);
  w.uvarint(static_cast<std::uint32_t>(t.data.size()));
  w.raw(t.data);
}

inline void put_unknown_tags(writer& w, const std::vector<TaggedField>& tags) {
  for (const auto& t : tags) put_tag(w, t);
}

/// Writes the preserved unknown tags in tag order around the known ones.
struct tag_merger {
  writer& w;
  const std::vector<TaggedField>& unknown;
  std::size_t next = 0;

  void before(std::uint32_t tag) {
    while (next < unknown.size() && unknown[next].tag < tag) put_tag(w, unknown[next++]);
  }
  void rest() {
    while (next < unknown.size()) put_tag(w, unknown[next++]);
  }
};

/// Strings longer than 0x7fff bytes are malformed in the compact form too (as in the Java
/// client), so that whatever decodes can be encoded again.
inline std::string get_string(reader& r, bool flex) {
  const auto s = flex ? r.compact_string() : r.string();
  if (s.size() > max_string_length) {
    r.fail(client_errc::malformed);
    return {};
  }
  return std::string(s);
}

inline std::optional<std::string> get_nullable_string(reader& r, bool flex, bool nullable) {
  const auto s = flex ? r.compact_nullable_string() : r.nullable_string();
  if (!s) {
    if (!nullable) r.fail(client_errc::malformed);
    return std::nullopt;
  }
  if (s->size() > max_string_length) {
    r.fail(client_errc::malformed);
    return std::nullopt;
  }
  return std::string(*s);
}

inline std::vector<std::uint8_t> get_bytes(reader& r, bool flex) {
  const auto b = flex ? r.compact_bytes() : r.bytes_value();
  return {b.begin(), b.end()};
}

inline std::optional<std::vector<std::uint8_t>> get_nullable_bytes(reader& r, bool flex, bool nullable) {
  const auto b = flex ? r.compact_nullable_bytes() : r.nullable_bytes();
  if (!b) {
    if (!nullable) r.fail(client_errc::malformed);
    return std::nullopt;
  }
  return std::vector<std::uint8_t>(b->begin(), b->end());
}

inline RecordsView get_records(reader& r, bool flex, bool nullable) {
  const auto b = flex ? r.compact_nullable_bytes() : r.nullable_bytes();
  if (!b && !nullable) r.fail(client_errc::malformed);
  if (!r.ok()) return {};
  return RecordsView{b};
}

/// Reads an array count; -1 is null. The count was checked against the bytes left.
inline std::int32_t get_length(reader& r, bool flex, std::size_t min_element_size) {
  return flex ? r.compact_array_length(min_element_size) : r.array_length(min_element_size);
}

template <class T, class F>
void get_elements(reader& r, std::vector<T>& out, std::int32_t n, std::size_t min_element_size, F&& elem) {
  out.clear();
  if (min_element_size > 0) out.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n && r.ok(); ++i) {
    out.emplace_back();
    elem(r, out.back());
  }
}

template <class T, class F>
void get_array(reader& r, std::vector<T>& out, bool flex, std::size_t min_element_size, F&& elem) {
  const std::int32_t n = get_length(r, flex, min_element_size);
  if (n < 0) {
    r.fail(client_errc::malformed);
    return;
  }
  get_elements(r, out, n, min_element_size, elem);
}

template <class T, class F>
void get_nullable_array(reader& r, std::optional<std::vector<T>>& out, bool flex, bool nullable,
                        std::size_t min_element_size, F&& elem) {
  const std::int32_t n = get_length(r, flex, min_element_size);
  if (n < 0) {
    if (!nullable) r.fail(client_errc::malformed);
    out.reset();
    return;
  }
  get_elements(r, out.emplace(), n, min_element_size, elem);
}

/// Ends a known tagged field read from its own sub-reader: it must be whole and exact.
inline void end_tag(reader& r, const reader& tr) {
  if (!tr.ok() || tr.remaining() != 0) r.fail(client_errc::malformed);
}

}  // namespace asiokafka::protocol::messages::detail
