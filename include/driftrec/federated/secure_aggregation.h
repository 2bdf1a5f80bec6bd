#pragma once
// Secure aggregation by pairwise additive masking (Bonawitz et al., CCS 2017, without the secret
// sharing), simulated in-process with the real arithmetic: every client turns its update into
// fixed-point integers modulo 2^64 and adds, for every other client j of the round, a mask drawn
// from the seed it shares with j: +PRG(s_ij) if i < j, -PRG(s_ij) if i > j. Each masked vector on
// its own is uniformly distributed (the server learns nothing from it); the masks cancel in the sum
// of all of them. When clients drop out after masking, the survivors reveal the seeds they share
// with the dropped ones, and the server removes those masks: it learns the survivors' sum and
// nothing about any single survivor. With `neighbors` > 0 each client masks only with that many
// others on a seeded ring (Bell et al., CCS 2020), which keeps a round's cost linear in the number
// of clients; 0 masks every pair.
#include <cstdint>
#include <vector>

namespace driftrec::fed {

/// Fixed-point encoding of updates: value * 2^24 rounded, as a two's-complement uint64.
std::uint64_t encode_fixed(float v);
float decode_fixed(std::uint64_t v);

class SecureAggregation {
 public:
  /// A round among `clients` (ids, distinct) over vectors of `length` entries; `session` seeds the
  /// simulated pairwise key agreement.
  SecureAggregation(std::vector<std::int32_t> clients, std::size_t length, std::uint64_t session,
                    std::size_t neighbors = 0);
  /// Client `client`'s masked upload of `update` (length entries). Throws InvalidInput for an
  /// unknown client or a wrong length.
  std::vector<std::uint64_t> mask(std::int32_t client, const std::vector<float>& update) const;
  /// The server's side: the sum of the updates of the clients whose masked vectors arrived
  /// (`received[i]` from `senders[i]`); the other clients of the round dropped out, and the
  /// survivors' seeds shared with them are used to remove their masks.
  std::vector<float> aggregate(const std::vector<std::int32_t>& senders,
                               const std::vector<std::vector<std::uint64_t>>& received) const;

  /// The same, one upload at a time (the server never holds more than the running sum).
  struct Sum {
    std::vector<std::uint64_t> total;
    std::vector<std::int32_t> senders;
  };
  Sum start() const { return {std::vector<std::uint64_t>(length_, 0), {}}; }
  /// Adds one masked upload. Throws InvalidInput for an unknown or repeated sender or a wrong length.
  void receive(Sum& sum, std::int32_t sender, const std::vector<std::uint64_t>& masked) const;
  std::vector<float> finish(Sum sum) const;

 private:
  std::uint64_t pair_seed(std::int32_t a, std::int32_t b) const;
  void add_mask(std::vector<std::uint64_t>& v, std::uint64_t seed, bool plus) const;
  /// The clients `client` shares masks with.
  const std::vector<std::int32_t>& peers(std::int32_t client) const;
  std::vector<std::int32_t> clients_;
  std::size_t length_;
  std::uint64_t session_;
  std::vector<std::vector<std::int32_t>> peers_;  ///< by position in clients_
};

}  // namespace driftrec::fed
