#pragma once
// Federated training of the LibTorch sequential models (`fed_rounds` > 0): every training user is a
// client whose history never leaves it and whose state is never stored by the server (a
// sequential model's user state is computed from the history, on the client). Per round the
// server samples clients (Poisson, rate fed_client_rate); each starts from the global weights -
// the encoder (every weight but the item table, dense) and the item rows its local steps touch
// (its events, its targets, the negatives it draws; the whole table under the full softmax, whose
// gradient reaches every row) - runs fed_local_epochs SGD steps (rate fed_client_lr; FedProx with
// fed_prox_mu > 0) of the model's own loss on its one sequence, and uploads the change: dense for
// the encoder, the touched rows for the item table (everything, masked, under secure aggregation).
// The server averages the changes that arrived and steps the global weights with the mean: FedAvg
// (weights += fed_server_lr x mean) or FedAdam (Reddi et al., ICLR 2021: the negated mean is the
// gradient of an AdamW step at the model's lr and weight_decay). DP-FedAvg with dp_epsilon or
// dp_noise: each client's change is clipped to dp_clip over all weights together, Gaussian noise
// goes on every coordinate of the sum, the mean is over the expected number of clients, and the
// RDP accountant composes the rounds (one sampled Gaussian mechanism per round, rate
// fed_client_rate). Bytes down and up are counted per round. Internal to src/nn.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "batches.h"
#include "checkpoint.h"
#include "driftrec/core/rng.h"
#include "driftrec/federated/secure_aggregation.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/train/epoch_loop.h"
#include "pch.h"
#include "sequential_impl.h"

namespace driftrec::nn {

/// A config's fed_* settings.
struct FederatedSettings {
  int64_t rounds = 0;
  double client_rate = 0.1;
  int64_t local_epochs = 1;
  double client_lr = 0.1;
  double prox_mu = 0;
  std::string server = "adam";  ///< adam (FedAdam) or avg (FedAvg with server_lr)
  double server_lr = 1.0;
  bool sparse = true;  ///< upload only the item rows touched (ignored under secure aggregation)
  bool secure = false;
  int64_t mask_neighbors = 16;
  double dropout = 0;  ///< share of a round's clients whose upload never arrives
  /// Reads the fed_* keys; throws InvalidInput (prefixed by `who`) for values out of range.
  static FederatedSettings from_config(const nlohmann::json& c, const std::string& who);
};

/// One client's change after its local steps: per parameter (in the trainer's order) the dense
/// change, except the item table's, which is `rows` and their change `row_delta` [rows, d].
struct ClientChange {
  std::vector<torch::Tensor> dense;  ///< undefined at the item table's index
  torch::Tensor rows, row_delta;
  double loss = 0;  ///< the summed loss of its first local step (at the global weights)
  int64_t positions = 0;
  /// Scales the change to L2 norm at most `clip` over every entry; returns the norm before.
  double clip(double clip);
};

class FederatedTrainer {
 public:
  FederatedTrainer(SequentialModel::Impl& m, const nlohmann::json& c, TrainingSet set, std::uint64_t seed,
                   const std::string& who);
  /// One round (1-based); returns the mean loss per target position of the sampled clients.
  double run(int round);
  /// Client `client`'s (index into the training sequences) local steps from the current weights,
  /// which it leaves as they were. Public for tests.
  ClientChange client_change(std::size_t client);
  const std::vector<torch::Tensor>& params() const { return params_; }
  std::size_t clients() const { return set_.sequences().seqs.size(); }
  void save(Checkpoint& ckpt, const std::vector<torch::Tensor>& best, const train::EpochState& st);
  train::EpochState load(Checkpoint& ckpt, std::vector<torch::Tensor>& best);
  /// {"federated": {...}} with the round totals (bytes and participations of the rounds this process
  /// ran: bytes_counted_from_round), plus {"privacy": {...}} under DP-FedAvg.
  nlohmann::json report() const;
  const std::optional<privacy::DpSgdPlan>& dp() const { return dp_; }

 private:
  /// Adds an arrived change to the round's sums, or (secure) masks it and adds it to `acc`.
  void receive(const ClientChange& change, std::int32_t id, const fed::SecureAggregation* secure,
               fed::SecureAggregation::Sum* acc);
  /// Uploaded bytes of one change.
  std::uint64_t bytes_up(const ClientChange& change) const;
  /// Bytes a client downloads: the encoder and the rows it touches (or the whole table).
  std::uint64_t bytes_down(const ClientChange& change) const;
  /// The change as one vector over every weight (the item table dense), for secure aggregation.
  std::vector<float> flatten(const ClientChange& change) const;
  void unflatten(const std::vector<float>& flat);
  /// Steps the global weights with the round's mean change.
  void server_step(double denominator);

  SequentialModel::Impl& m_;
  TrainingSet set_;
  std::uint64_t seed_;
  Rng rng_root_;
  FederatedSettings s_;
  std::vector<torch::Tensor> params_, global_, sum_;
  std::size_t item_index_ = 0;  ///< the item table's index in params_
  int64_t flat_size_ = 0;
  bool sparse_lookup_;
  std::optional<privacy::DpSgdPlan> dp_;
  std::unique_ptr<torch::optim::AdamW> server_opt_;
  int64_t round_ = 0;
  int64_t counted_from_ = 1;  ///< the totals below count the rounds run since (a resumed fit: after the checkpoint)
  std::uint64_t up_ = 0, down_ = 0, dropped_ = 0, participations_ = 0;
  double seconds_ = 0;
};

}  // namespace driftrec::nn
