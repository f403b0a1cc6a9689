#include "support/jwt.hpp"

#include <cstdint>
#include <string_view>

namespace asiokafka::test {
namespace {

std::string base64url(std::string_view s) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char c : s) {
    acc = acc << 8 | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[acc >> bits & 63];
    }
  }
  if (bits > 0) out += alphabet[acc << (6 - bits) & 63];
  return out;  // no padding
}

}  // namespace

std::string unsigned_jwt(const std::string& sub, std::chrono::seconds expires_in) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const auto claims = R"({"sub":")" + sub + R"(","iat":)" + std::to_string(now - 10) + R"(,"exp":)" +
                      std::to_string(now + expires_in.count()) + "}";
  return base64url(R"({"alg":"none"})") + "." + base64url(claims) + ".";
}

}  // namespace asiokafka::test
