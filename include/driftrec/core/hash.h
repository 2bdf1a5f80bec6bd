#pragma once
// FNV-1a 64-bit: a stable, dependency-free fingerprint for data and id maps (not cryptographic).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace driftrec {

class Fingerprint {
 public:
  void add_bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      h_ ^= p[i];
      h_ *= 0x100000001B3ULL;
    }
  }
  void add(std::string_view s) {
    add_pod(static_cast<std::uint64_t>(s.size()));
    add_bytes(s.data(), s.size());
  }
  template <typename T>
  void add_pod(const T& v) {
    add_bytes(&v, sizeof(T));
  }
  std::uint64_t value() const { return h_; }
  /// 16 lower-case hex digits.
  std::string hex() const;

 private:
  std::uint64_t h_ = 0xCBF29CE484222325ULL;
};

/// Fingerprint of a file's bytes, reading at most `max_bytes` (so a file that grows while it is read
/// cannot hang the caller). Throws IoError when the file cannot be opened.
std::string file_fingerprint(const std::string& path, std::uintmax_t max_bytes = UINTMAX_MAX);

}  // namespace driftrec
