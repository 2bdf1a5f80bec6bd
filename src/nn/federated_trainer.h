#pragma once
// The in-process simulation of federated training of the sequential models (`fed_rounds` > 0),
// built on the public client and server (federated_client.h, federated_server.h): every training
// user is a client whose history never leaves it and whose state the server never stores. Per
// round the server samples clients; each sampled client trains from the round's global weights
// and uploads its update; the server aggregates and steps. The simulation holds one network: a
// client's change is taken against the round's snapshot and the weights are restored in place, and
// the `fed_dropout` share of uploads is lost after training (and masking). Bytes down are what a
// client fetches (the encoder and the rows its steps touch; everything when dense or masked),
// bytes up the wire size of its update. Internal to src/nn.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "batches.h"
#include "checkpoint.h"
#include "driftrec/train/epoch_loop.h"
#include "federated_internal.h"

namespace driftrec::nn {

class FederatedTrainer {
 public:
  FederatedTrainer(SequentialModel::Impl& m, const nlohmann::json& c, TrainingSet set, std::uint64_t seed,
                   const std::string& who);
  /// One round (1-based); returns the mean loss per target position of the sampled clients.
  double run(int round);
  /// Client `client`'s (index into the training sequences) plain update from the current weights,
  /// which it leaves as they were (not clipped, not masked). Public for tests.
  FederatedUpdate client_update(std::size_t client);
  const std::vector<torch::Tensor>& params() const { return layout_.params(); }
  std::size_t clients() const { return set_.sequences().seqs.size(); }
  void save(Checkpoint& ckpt, const std::vector<torch::Tensor>& best, const train::EpochState& st);
  train::EpochState load(Checkpoint& ckpt, std::vector<torch::Tensor>& best);
  /// {"federated": {...}} with the round totals (bytes and participations of the rounds this process
  /// ran: bytes_counted_from_round), plus {"privacy": {...}} under DP-FedAvg.
  nlohmann::json report() const;
  const std::optional<privacy::DpSgdPlan>& dp() const { return server_.state_->dp; }

 private:
  /// The simulated client `id` (its training sequence in the shared set).
  FederatedClient client(std::int32_t id);
  /// Copies the current weights into global_ (what the round's clients start from).
  void snapshot_global();
  /// Bytes a client downloads for its update `u` (plain): the encoder and the rows it touched.
  std::uint64_t bytes_down(const FederatedUpdate& u) const;

  SequentialModel::Impl& m_;
  const nlohmann::json& c_;
  TrainingSet set_;
  std::uint64_t seed_;
  Rng dropout_root_;
  FederatedServer server_;
  const FederatedSettings& s_;  ///< the server's (parsed once)
  const WeightLayout& layout_;
  std::vector<torch::Tensor> global_;  ///< the round's weights, which every client starts from
  int64_t round_ = 0;
  int64_t counted_from_ = 1;  ///< the totals below count the rounds run since (a resumed fit: after the checkpoint)
  std::uint64_t up_ = 0, down_ = 0, dropped_ = 0, participations_ = 0;
  double seconds_ = 0;
};

}  // namespace driftrec::nn
