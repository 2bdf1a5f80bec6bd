#pragma once
// The client side of federated training of the sequential models, as a device application embeds
// it: the device holds its own copy of the shared network (a SequentialModel of the federation's
// kind and config, e.g. loaded from the server's model directory, with the round's global weights
// installed by load_weights) and its user's history, which never leaves it. Each round it takes
// fed_local_epochs SGD steps (fed_client_lr; FedProx with fed_prox_mu) of the model's own loss on
// that one history and uploads the change (federated_update.h): the dense weights and only the
// item and attribute rows its steps touched (its events, its targets, the negatives it drew; every
// row under the full softmax, or with fed_sparse false), clipped to dp_clip under DP-FedAvg, and
// masked under secure aggregation. The network is left holding the weights it started from. The
// in-process simulator (`--set fed_rounds=N`) runs one of these per sampled user.
#include <cstdint>
#include <memory>

#include "driftrec/data/dataset.h"
#include "driftrec/nn/federated_update.h"
#include "driftrec/nn/sequential.h"

namespace driftrec::nn {

class FederatedTrainer;

class FederatedClient {
 public:
  /// Client `id` of the federation training on `user`'s events in `local` (the device's data, its
  /// item indices those of the model's catalogue, e.g. via data::align_ids with the model's item
  /// map). `model` must be built (fit, prepare or loaded) and outlive the client. Throws
  /// InvalidInput when `model` is not federated (fed_rounds 0) or `user` has fewer than two events.
  FederatedClient(SequentialModel& model, const data::Dataset& local, std::int32_t user, std::int32_t id);
  ~FederatedClient();
  FederatedClient(FederatedClient&&) noexcept;
  FederatedClient& operator=(FederatedClient&&) noexcept;
  std::int32_t id() const;
  /// Local training from the weights the model holds now (the round's global weights). Throws
  /// InvalidInput when the client is not among the round's clients.
  FederatedUpdate train(const FederatedRound& round);
  /// The summed loss of its last round's first local step and its number of target positions
  /// (they stay on the device).
  double last_loss() const;
  std::int64_t last_positions() const;

  struct Local;

 private:
  friend class FederatedTrainer;
  explicit FederatedClient(std::unique_ptr<Local> local);
  std::unique_ptr<Local> local_;
};

}  // namespace driftrec::nn
