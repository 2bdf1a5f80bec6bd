#pragma once
// Federated training of BPR matrix factorisation: every user is a client whose history and user
// vector never leave it. Per round the server samples clients (Poisson, rate client_rate); each
// downloads only the item rows it needs (its drawn positives and negatives), runs local epochs on
// its own pairs, and uploads the change of those rows (sparse) or of the whole table (dense, and
// always under secure aggregation, whose masks cover every entry). The server averages (FedAvg;
// FedProx with prox_mu > 0) and steps the item table. DP-FedAvg (dp_epsilon or dp_noise): each
// client's change is clipped to dp_clip, the sum gets Gaussian noise on every entry, the mean is
// over the expected number of clients, and the RDP accountant composes the rounds. Bytes up and
// down are counted per round. The result is a `bpr` model over the item side (users are folded in
// from their history when served), so evaluate / serve / compare take it like any other.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/data/dataset.h"
#include "driftrec/models/model.h"

namespace driftrec::fed {

struct FedOptions {
  int factors = 32;
  int rounds = 100;
  double client_rate = 1.0;  ///< each client takes part in a round with this probability
  int local_epochs = 1;
  int local_pairs = 32;  ///< (positive, negative) pairs a client draws per local epoch
  double lr = 0.05;      ///< the client's learning rate
  double server_lr = 1.0;
  double reg = 0.001;
  double prox_mu = 0;               ///< FedProx: local item rows are pulled toward the round's global rows
  bool full_batch = false;          ///< one gradient step per local epoch over all its pairs (else SGD)
  bool sparse = true;               ///< upload only the rows touched (ignored under secure aggregation)
  bool secure = false;              ///< pairwise-masked uploads (dense)
  std::size_t mask_neighbors = 16;  ///< peers each client masks with (0 = all)
  double dropout = 0;               ///< share of a round's clients that drop out after masking
  double dp_epsilon = 0, dp_delta = 1e-5, dp_noise = 0, dp_clip = 1.0;
  double init_std = 0.1;
  int fold_in_epochs = 10;  ///< the served model's SGD passes over a user's history
  std::uint64_t seed = 42;
  int threads = 0;
};

/// One client's upload: the rows it changed and their change (rows.size() x dim).
struct ClientUpdate {
  std::vector<std::int32_t> rows;
  std::vector<float> delta;
  std::uint64_t bytes_down = 0;
};

/// A client: its own items (history) and user vector; trains locally on a read-only view of the
/// global item table.
class Client {
 public:
  Client(std::int32_t id, std::vector<std::int32_t> items, std::size_t dim, std::uint64_t seed, double init_std);
  std::int32_t id() const { return id_; }
  /// The pairs it draws in `round`, local epoch `epoch` (deterministic in the seed).
  std::vector<std::pair<std::int32_t, std::int32_t>> pairs(std::int32_t n_items, int round, int epoch, int count) const;
  /// Local training from `table` ([n_items, dim], row 0 padding): returns the change of the rows
  /// it touched. Its user vector is updated here and stays here.
  ClientUpdate train(const std::vector<float>& table, std::int32_t n_items, const FedOptions& o, int round);
  const std::vector<float>& user_vector() const { return user_; }

 private:
  std::int32_t id_;
  std::vector<std::int32_t> items_;  ///< sorted, distinct
  std::size_t dim_;                  ///< factors + 1 (the last column is the item bias)
  std::uint64_t seed_;
  std::vector<float> user_;
};

struct RoundStats {
  int round = 0;
  std::size_t clients = 0;  ///< sampled
  std::size_t dropped = 0;
  std::uint64_t bytes_up = 0, bytes_down = 0;
  double seconds = 0;
};

struct FedResult {
  std::unique_ptr<models::Model> model;  ///< a `bpr` model holding the item table
  std::vector<RoundStats> rounds;
  nlohmann::json report;  ///< options, totals and (DP) the privacy spent
};

/// Federated training on `train` (each user with events a client). Throws InvalidInput on bad
/// options (rates outside [0, 1], a budget that cannot be met, ...).
FedResult train_federated(const data::Dataset& train, const FedOptions& options, const ProgressCallback& progress = {});

/// The item table stepped by one round's aggregate: table += server_lr * sum / denominator
/// (rows >= 1).
void apply_round(std::vector<float>& table, const std::vector<float>& sum, double denominator, double server_lr);

}  // namespace driftrec::fed
