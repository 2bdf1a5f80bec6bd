#include "driftrec/federated/secure_aggregation.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "driftrec/core/error.h"

namespace driftrec::fed {

namespace {
constexpr double kScale = 16777216.0;  // 2^24

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
}  // namespace

std::uint64_t encode_fixed(float v) {
  const double x = std::round(static_cast<double>(v) * kScale);
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(x));
}

float decode_fixed(std::uint64_t v) {
  return static_cast<float>(static_cast<double>(static_cast<std::int64_t>(v)) / kScale);
}

SecureAggregation::SecureAggregation(std::vector<std::int32_t> clients, std::size_t length, std::uint64_t session,
                                     std::size_t neighbors)
    : clients_(std::move(clients)), length_(length), session_(session) {
  std::sort(clients_.begin(), clients_.end());
  if (std::adjacent_find(clients_.begin(), clients_.end()) != clients_.end())
    throw InvalidInput("secure aggregation: a client appears twice in the round");
  const std::size_t n = clients_.size();
  peers_.assign(n, {});
  if (neighbors == 0 || neighbors + 1 >= n) {
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = 0; b < n; ++b)
        if (a != b) peers_[a].push_back(clients_[b]);
    return;
  }
  // A seeded ring: each client's peers are the neighbors/2 before and after it.
  std::vector<std::size_t> ring(n);
  for (std::size_t a = 0; a < n; ++a) ring[a] = a;
  std::uint64_t state = session ^ 0x5EC0A66ULL;
  for (std::size_t a = n; a > 1; --a) std::swap(ring[a - 1], ring[splitmix(state) % a]);
  const std::size_t half = std::max<std::size_t>(1, neighbors / 2);
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t d = 1; d <= half; ++d) {
      const auto a = ring[p], b = ring[(p + d) % n];
      peers_[a].push_back(clients_[b]);
      peers_[b].push_back(clients_[a]);
    }
  for (auto& v : peers_) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
}

const std::vector<std::int32_t>& SecureAggregation::peers(std::int32_t client) const {
  const auto it = std::lower_bound(clients_.begin(), clients_.end(), client);
  if (it == clients_.end() || *it != client)
    throw InvalidInput("secure aggregation: client " + std::to_string(client) + " is not in this round");
  return peers_[static_cast<std::size_t>(it - clients_.begin())];
}

std::uint64_t SecureAggregation::pair_seed(std::int32_t a, std::int32_t b) const {
  // Simulated key agreement: in a deployment, a Diffie-Hellman exchange between the two clients.
  std::uint64_t s = session_ ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(std::min(a, b))) << 32) ^
                    static_cast<std::uint32_t>(std::max(a, b));
  splitmix(s);
  return splitmix(s);
}

void SecureAggregation::add_mask(std::vector<std::uint64_t>& v, std::uint64_t seed, bool plus) const {
  std::uint64_t state = seed;
  for (auto& x : v) {
    const std::uint64_t m = splitmix(state);
    x = plus ? x + m : x - m;  // modulo 2^64
  }
}

std::vector<std::uint64_t> SecureAggregation::mask(std::int32_t client, const std::vector<float>& update) const {
  const auto& with = peers(client);
  if (update.size() != length_)
    throw InvalidInput("secure aggregation: update has " + std::to_string(update.size()) + " entries, the round " +
                       std::to_string(length_));
  std::vector<std::uint64_t> out(length_);
  for (std::size_t e = 0; e < length_; ++e) out[e] = encode_fixed(update[e]);
  for (auto other : with) add_mask(out, pair_seed(client, other), client < other);
  return out;
}

void SecureAggregation::receive(Sum& sum, std::int32_t sender, const std::vector<std::uint64_t>& masked) const {
  peers(sender);  // a client of this round
  if (std::find(sum.senders.begin(), sum.senders.end(), sender) != sum.senders.end())
    throw InvalidInput("secure aggregation: client " + std::to_string(sender) + " sent twice");
  if (masked.size() != length_ || sum.total.size() != length_)
    throw InvalidInput("secure aggregation: a malformed masked update (" + std::to_string(masked.size()) +
                       " entries, the round has " + std::to_string(length_) + ")");
  for (std::size_t e = 0; e < length_; ++e) sum.total[e] += masked[e];
  sum.senders.push_back(sender);
}

std::vector<float> SecureAggregation::finish(Sum sum) const {
  // Dropped clients: each surviving peer reveals the seed it shares with each of them, and the
  // server removes that survivor's mask for the pair (the dropped side never arrived to cancel it).
  const std::set<std::int32_t> alive(sum.senders.begin(), sum.senders.end());
  for (auto d : clients_) {
    if (alive.count(d)) continue;
    for (auto s : peers(d))
      if (alive.count(s)) add_mask(sum.total, pair_seed(s, d), s > d);  // undo +mask (s < d) or -mask (s > d)
  }
  std::vector<float> out(length_);
  for (std::size_t e = 0; e < length_; ++e) out[e] = decode_fixed(sum.total[e]);
  return out;
}

std::vector<float> SecureAggregation::aggregate(const std::vector<std::int32_t>& senders,
                                                const std::vector<std::vector<std::uint64_t>>& received) const {
  if (senders.size() != received.size()) throw InvalidInput("secure aggregation: one vector per sender");
  auto sum = start();
  for (std::size_t s = 0; s < senders.size(); ++s) receive(sum, senders[s], received[s]);
  return finish(std::move(sum));
}

}  // namespace driftrec::fed
