#include "driftrec/core/hash.h"

#include <cstdio>

namespace driftrec {

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

}  // namespace driftrec
