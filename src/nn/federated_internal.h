#pragma once
// Internals of federated training of the sequential models shared by the public client and server
// (federated_client.h, federated_server.h) and the in-process simulator built on them
// (federated_trainer.h): the fed_* settings, how the weights map onto the update messages, and the
// client's and server's state. Internal to src/nn.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "batches.h"
#include "driftrec/core/rng.h"
#include "driftrec/federated/secure_aggregation.h"
#include "driftrec/nn/federated_client.h"
#include "driftrec/nn/federated_server.h"
#include "driftrec/privacy/dp_sgd_plan.h"
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
  bool sparse = true;  ///< upload only the rows touched (ignored under secure aggregation)
  bool secure = false;
  int64_t mask_neighbors = 16;
  double dropout = 0;  ///< share of a round's clients whose upload never arrives (simulation)
  /// Reads the fed_* keys; throws InvalidInput (prefixed by `who`) for values out of range.
  static FederatedSettings from_config(const nlohmann::json& c, const std::string& who);
};

/// The weights of a built network as the messages see them: the dense weights (every parameter in
/// order, the row tables left out) and the row tables (the item table, then the attribute table
/// when the model has one) stacked in one row space of `width`-wide rows.
class WeightLayout {
 public:
  explicit WeightLayout(SequentialModel::Impl& m);
  struct RowTable {
    std::size_t param;  ///< index in params()
    int64_t offset;     ///< its first row in the row space
  };
  const std::vector<torch::Tensor>& params() const { return params_; }
  const std::vector<RowTable>& tables() const { return tables_; }
  /// The row table at params()[i], or nullptr for a dense weight.
  const RowTable* table_of(std::size_t i) const;
  int64_t width() const { return width_; }
  int64_t rows() const { return rows_; }
  int64_t dense_size() const { return dense_size_; }
  int64_t flat_size() const { return dense_size_ + rows_ * width_; }
  /// Throws InvalidInput (prefixed by `who`) unless `u` is a well-formed update of these weights:
  /// sizes, rows ascending within the row space, finite values (or, masked, flat_size() entries).
  void check(const FederatedUpdate& u, const std::string& who) const;
  /// Adds a plain update into `sum` (one tensor per parameter).
  void add(const FederatedUpdate& u, std::vector<torch::Tensor>& sum) const;
  /// A plain update over every weight (params() in order, row tables whole), for masking.
  std::vector<float> flatten(const FederatedUpdate& u) const;
  /// Writes a flat vector (flatten's order) into `sum`.
  void unflatten(const std::vector<float>& flat, std::vector<torch::Tensor>& sum) const;

 private:
  std::vector<torch::Tensor> params_;
  std::vector<RowTable> tables_;
  int64_t width_ = 0, rows_ = 0, dense_size_ = 0;
};

/// A plain update masked for secure aggregation: every weight (flatten's order), nothing else.
FederatedUpdate mask_update(const FederatedUpdate& u, const fed::SecureAggregation& secure, const WeightLayout& layout);

/// Scales a plain update to L2 norm at most `clip` over every entry; returns the norm before.
double clip_update(FederatedUpdate& u, double clip);

struct FederatedClient::Local {
  SequentialModel::Impl& m;
  const nlohmann::json& config;        ///< the model's (resolved) config
  std::unique_ptr<TrainingSet> owned;  ///< a device's own training set
  TrainingSet* set = nullptr;          ///< owned, or the simulator's shared one
  std::size_t seq = 0;                 ///< its sequence in *set
  std::int32_t id = 0;
  FederatedSettings s;
  std::optional<double> clip;  ///< DP-FedAvg: the bound of its change
  double loss = 0;
  int64_t positions = 0;
  /// Local steps from the weights `global` (the network's current weights, params() order); the
  /// network is left holding them again. The plain update, clipped under DP (masking is the
  /// caller's: FederatedClient::train, or the simulator after it has counted the bytes fetched).
  FederatedUpdate change(const FederatedRound& round, const WeightLayout& layout,
                         const std::vector<torch::Tensor>& global);
};

struct FederatedServer::State {
  SequentialModel::Impl& m;
  WeightLayout layout;
  FederatedSettings s;
  std::size_t clients;
  std::uint64_t seed;
  Rng rng_root;
  std::optional<privacy::DpSgdPlan> dp;
  std::unique_ptr<torch::optim::AdamW> opt;
  std::vector<torch::Tensor> sum;
  // The open round.
  FederatedRound round;
  std::vector<char> arrived;  ///< by position in round.clients
  std::optional<fed::SecureAggregation::Sum> acc;
  std::size_t n_arrived = 0;
  bool open = false;
  State(SequentialModel::Impl& model, const nlohmann::json& c, std::size_t n_clients, std::uint64_t s,
        const std::string& who);
  void step(double denominator);
};

}  // namespace driftrec::nn
