#include "driftrec/nn/federated_update.h"

#include <algorithm>
#include <cstring>

#include "driftrec/core/error.h"

namespace driftrec::nn {

namespace {

constexpr char kMagic[4] = {'D', 'R', 'F', 'U'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kMasked = 1;
constexpr std::uint32_t kRowRange = 2;  ///< rows are 0 .. n-1: their array is left out
constexpr std::uint64_t kHeader = 4 + 4 + 8 + 4 + 4 + 4 * 8;

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

template <class T>
void put_array(std::string& out, const std::vector<T>& v) {
  for (const auto& x : v) {
    std::uint64_t bits = 0;
    if constexpr (std::is_same_v<T, float>) {
      std::uint32_t b32 = 0;
      std::memcpy(&b32, &x, sizeof b32);
      bits = b32;
    } else {
      bits = static_cast<std::uint64_t>(x);
    }
    put(out, bits, static_cast<int>(sizeof(T)));
  }
}

/// Reads little-endian values from the bytes, refusing to run past their end.
class Reader {
 public:
  explicit Reader(const std::string& b) : b_(b) {}
  std::uint64_t get(int bytes) {
    need(static_cast<std::uint64_t>(bytes));
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b_[at_++])) << (8 * i);
    return v;
  }
  template <class T>
  std::vector<T> array(std::uint64_t n) {
    need(n * sizeof(T));  // the counts were bounded by the remaining size first, so this cannot overflow
    std::vector<T> v(static_cast<std::size_t>(n));
    for (auto& x : v) {
      const auto bits = get(static_cast<int>(sizeof(T)));
      if constexpr (std::is_same_v<T, float>) {
        const auto b32 = static_cast<std::uint32_t>(bits);
        std::memcpy(&x, &b32, sizeof x);
      } else {
        x = static_cast<T>(bits);
      }
    }
    return v;
  }
  std::uint64_t left() const { return b_.size() - at_; }

 private:
  void need(std::uint64_t n) const {
    if (n > left()) throw InvalidInput("federated update: truncated (" + std::to_string(b_.size()) + " bytes)");
  }
  const std::string& b_;
  std::size_t at_ = 0;
};

/// Whether the rows are exactly 0 .. n-1 (a dense upload of every table row).
bool row_range(const std::vector<std::int64_t>& rows) {
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (rows[k] != static_cast<std::int64_t>(k)) return false;
  return !rows.empty();
}

}  // namespace

std::uint64_t FederatedUpdate::wire_size() const {
  return kHeader + dense.size() * sizeof(float) + (row_range(rows) ? 0 : rows.size() * sizeof(std::int64_t)) +
         row_values.size() * sizeof(float) + masked.size() * sizeof(std::uint64_t);
}

std::string FederatedUpdate::serialize() const {
  std::string out;
  out.reserve(static_cast<std::size_t>(wire_size()));
  out.append(kMagic, sizeof kMagic);
  put(out, kVersion, 4);
  put(out, static_cast<std::uint64_t>(round), 8);
  put(out, static_cast<std::uint32_t>(client), 4);
  const bool range = row_range(rows);
  put(out, (is_masked() ? kMasked : 0) | (range ? kRowRange : 0), 4);
  for (const auto n : {dense.size(), rows.size(), row_values.size(), masked.size()}) put(out, n, 8);
  put_array(out, dense);
  if (!range) put_array(out, rows);
  put_array(out, row_values);
  put_array(out, masked);
  return out;
}

FederatedUpdate FederatedUpdate::parse(const std::string& bytes) {
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw InvalidInput("federated update: not an update (" + std::to_string(bytes.size()) + " bytes, no DRFU header)");
  Reader r(bytes);
  r.get(4);
  const auto version = r.get(4);
  if (version != kVersion) throw InvalidInput("federated update: unknown version " + std::to_string(version));
  FederatedUpdate u;
  u.round = static_cast<std::int64_t>(r.get(8));
  u.client = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.get(4)));
  const auto flags = r.get(4);
  if ((flags & ~static_cast<std::uint64_t>(kMasked | kRowRange)) != 0)
    throw InvalidInput("federated update: unknown flags " + std::to_string(flags));
  const bool range = (flags & kRowRange) != 0;
  std::uint64_t n[4];
  for (auto& k : n) k = r.get(8);
  const auto n_rows = n[1];
  if (range) {
    if (n_rows == 0 || n_rows > n[2]) throw InvalidInput("federated update: a row range without its row values");
    n[1] = 0;  // not on the wire
  }
  // Each count is bounded by what is left before any allocation, so a forged count cannot allocate.
  const std::uint64_t width[4] = {sizeof(float), sizeof(std::int64_t), sizeof(float), sizeof(std::uint64_t)};
  std::uint64_t want = 0;
  for (int i = 0; i < 4; ++i) {
    if (n[i] > r.left() / width[i] || n[i] * width[i] > r.left() - want)
      throw InvalidInput("federated update: counts exceed its " + std::to_string(bytes.size()) + " bytes");
    want += n[i] * width[i];
  }
  if (want != r.left())
    throw InvalidInput("federated update: " + std::to_string(r.left() - want) + " trailing bytes after the arrays");
  u.dense = r.array<float>(n[0]);
  u.rows = r.array<std::int64_t>(n[1]);
  if (range) {
    u.rows.resize(static_cast<std::size_t>(n_rows));
    for (std::size_t k = 0; k < u.rows.size(); ++k) u.rows[k] = static_cast<std::int64_t>(k);
  }
  u.row_values = r.array<float>(n[2]);
  u.masked = r.array<std::uint64_t>(n[3]);
  const bool masked = (flags & kMasked) != 0;
  if (masked != u.is_masked() || (masked && (!u.dense.empty() || !u.rows.empty() || !u.row_values.empty())))
    throw InvalidInput("federated update: a masked update carries only masked weights");
  return u;
}

bool FederatedRound::takes_part(std::int32_t client) const {
  return std::binary_search(clients.begin(), clients.end(), client);
}

}  // namespace driftrec::nn
