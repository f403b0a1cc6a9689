// Seeds of message_any and message_round_trip (fuzz/corpus/message): byte 0 is the API's index
// in supported_apis (bit 7 for a request), byte 1 selects the version (version - min + 1),
// then the body. For every API, direction and version:
//   <Message>-v<N>-java          the body the Java client writes (tests/data/codec/java_golden.txt)
//   <Message>-v<N>-default       a default-constructed message (empty arrays, null where allowed)
//   <Message>-v<N>-unknown-tag   flexible versions: the Java value plus an unknown tagged field
// and <Message>-v<N>-broker for the responses captured from a real broker (broker_*.hex).
// Every seed is checked to decode, so stale test data stops the generator.
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>

#include "asiokafka/protocol/messages.hpp"
#include "corpus.hpp"
#include "message_types.hpp"

namespace asiokafka::corpus {
namespace {

namespace pr = protocol;
namespace fs = std::filesystem;

// message name -> version -> body
using body_map = std::map<std::string, std::map<int, bytes>>;

body_map read_golden(const fs::path& file) {
  body_map out;
  std::istringstream lines(read_file(file));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, hex;
    int version = -1;
    fields >> name >> version >> hex;  // an empty body has no hex field
    require(version >= 0, "bad line in " + file.string() + ": " + line);
    out[name][version] = from_hex(hex);
  }
  return out;
}

// broker_api_versions_v3.hex -> ("ApiVersionsResponse", 3)
body_map read_broker_captures(const fs::path& dir) {
  body_map out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string file = e.path().filename().string();
    if (file.rfind("broker_", 0) != 0 || e.path().extension() != ".hex") continue;
    const std::string stem = e.path().stem().string().substr(7);
    const auto v = stem.rfind("_v");
    require(v != std::string::npos, "unexpected capture name " + file);
    std::string name;
    bool upper = true;
    for (const char c : stem.substr(0, v)) {
      if (c == '_') {
        upper = true;
        continue;
      }
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
    out[name + "Response"][std::stoi(stem.substr(v + 2))] = from_hex(read_file(e.path()));
  }
  require(!out.empty(), "no broker_*.hex captures in " + dir.string());
  return out;
}

bytes seed(std::size_t index, bool request, int version, std::span<const std::uint8_t> body) {
  const auto& api = pr::supported_apis[index];
  bytes s{static_cast<std::uint8_t>(index | (request ? 0x80u : 0u)),
          static_cast<std::uint8_t>(version - api.min_version + 1)};
  append(s, body);
  return s;
}

template <class M>
void seeds_for(std::size_t index, bool request, const body_map& golden, const body_map& broker,
               target_dir& out, std::size_t& captured) {
  const std::string name = std::string(pr::supported_apis[index].name) + (request ? "Request" : "Response");
  const auto java = golden.find(name);
  require(java != golden.end(), "no golden bodies for " + name);
  const auto from_broker = broker.find(name);
  for (int v = M::min_version; v <= M::max_version; ++v) {
    const auto version = static_cast<std::int16_t>(v);
    const std::string stem = name + "-v" + std::to_string(v);
    const auto g = java->second.find(v);
    require(g != java->second.end(), "no golden body for " + stem);
    M value;
    require(!value.decode(g->second, version), stem + ": the golden body does not decode");
    out.add(stem + "-java", seed(index, request, v, g->second));

    bytes plain;
    if (!M{}.encode(plain, version)) out.add(stem + "-default", seed(index, request, v, plain));

    if constexpr (M::flexible_min_version >= 0) {  // never-flexible messages have no tagged fields
      if (v >= M::flexible_min_version) {
        value.unknown_tagged_fields.push_back({1000, {0xca, 0xfe}});
        bytes tagged;
        require(!value.encode(tagged, version), stem + ": encoding an unknown tagged field");
        M back;
        require(!back.decode(tagged, version) && back == value, stem + ": unknown tagged field round trip");
        out.add(stem + "-unknown-tag", seed(index, request, v, tagged));
      }
    }

    if (from_broker == broker.end()) continue;
    if (const auto b = from_broker->second.find(v); b != from_broker->second.end()) {
      M real;
      require(!real.decode(b->second, version), stem + ": the broker capture does not decode");
      out.add(stem + "-broker", seed(index, request, v, b->second));
      ++captured;
    }
  }
}

}  // namespace

void make_message_seeds(const inputs& in, target_dir& out) {
  const body_map golden = read_golden(in.data_dir / "codec" / "java_golden.txt");
  const body_map broker = read_broker_captures(in.data_dir / "codec");
  std::size_t captured = 0;
  for (std::size_t i = 0; i < fuzz::api_count; ++i) {
    for (const bool request : {true, false}) {
      fuzz::with_message_type(i, request, [&]<class M>() { seeds_for<M>(i, request, golden, broker, out, captured); });
    }
  }
  std::size_t expected = 0;
  for (const auto& [name, versions] : broker) expected += versions.size();
  require(captured == expected, "a broker capture matches no implemented API version");
}

}  // namespace asiokafka::corpus
