// The machine-readable lines of the group examples (examples/consumer_group.cpp and friends):
// "REC <partition> <offset> <value>" and the assignment lines, parsed for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <sstream>
#include <string>

namespace asiokafka::test {

struct RecLine {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string value;  ///< the rest of the line (it may hold spaces)
};

/// "REC <partition> <offset> <value>"; nullopt for any other line.
inline std::optional<RecLine> parse_rec(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  RecLine r;
  if (!(in >> word) || word != "REC" || !(in >> r.partition >> r.offset)) return std::nullopt;
  std::getline(in >> std::ws, r.value);
  return r;
}

/// Applies "ASSIGNED <p>...", "REVOKED <p>..." or "LOST <p>..." to `held`; false for any
/// other line.
inline bool apply_assignment_line(const std::string& line, std::set<std::int32_t>& held) {
  std::istringstream in(line);
  std::string word;
  if (!(in >> word) || (word != "ASSIGNED" && word != "REVOKED" && word != "LOST")) return false;
  std::int32_t p = 0;
  while (in >> p) {
    if (word == "ASSIGNED") {
      held.insert(p);
    } else {
      held.erase(p);
    }
  }
  return true;
}

}  // namespace asiokafka::test
