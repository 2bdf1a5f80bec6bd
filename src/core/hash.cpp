#include "driftrec/core/hash.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "driftrec/core/error.h"

namespace driftrec {

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

std::string file_fingerprint(const std::string& path, std::uintmax_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading");
  Fingerprint fp;
  std::vector<char> buf(1 << 16);
  std::uintmax_t left = max_bytes;
  while (in && left > 0) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<std::uintmax_t>(buf.size(), left)));
    const auto got = static_cast<std::size_t>(in.gcount());
    fp.add_bytes(buf.data(), got);
    left -= got;
  }
  return fp.hex();
}

}  // namespace driftrec
