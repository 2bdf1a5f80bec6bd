#pragma once
// The server side of federated training of the sequential models: it holds the global network,
// samples each round's clients, accepts their uploads (federated_update.h) one at a time, and
// steps the global weights with their mean: FedAvg (weights += fed_server_lr x mean) or FedAdam
// (Reddi et al., ICLR 2021: the negated mean is the gradient of an AdamW step at the model's lr and
// weight_decay). Under secure aggregation it only ever holds the running sum of masked uploads and
// removes the masks of the clients that dropped out. DP-FedAvg (dp_epsilon or dp_noise): Gaussian
// noise on every coordinate of the sum, the mean over the expected number of clients, and the RDP
// accountant over the rounds (one sampled Gaussian mechanism per round, rate fed_client_rate).
// Settings come from the model's fed_* and dp_* config keys.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>

#include "driftrec/nn/federated_update.h"
#include "driftrec/nn/sequential.h"

namespace driftrec::nn {

class FederatedTrainer;

class FederatedServer {
 public:
  /// The server of `model` (built: fit, prepare or loaded; it must outlive the server) among
  /// `clients` clients with ids 0 .. clients - 1. Throws InvalidInput for a model that is not
  /// federated (fed_rounds 0) or a privacy budget the planned rounds cannot meet.
  FederatedServer(SequentialModel& model, std::size_t clients, std::uint64_t seed);
  ~FederatedServer();
  /// Opens round `round` (>= 1): its clients are Poisson-sampled at fed_client_rate, deterministic
  /// in (seed, round). Throws InvalidInput while another round is open.
  FederatedRound open_round(std::int64_t round);
  /// Checks one arrived upload and adds it to the round's sum. Throws InvalidInput, adding
  /// nothing, for an update of another round, of a client not sampled or already received, of the
  /// wrong shape (dense size, rows outside the tables or not ascending, values per row), with a
  /// non-finite value, or masked when the round is plain (and the reverse).
  void receive(const FederatedUpdate& update);
  /// Closes the open round: aggregates what arrived (removing the masks of the clients that
  /// dropped out) and steps the global weights. Returns the number of uploads that arrived.
  std::size_t close_round();
  std::size_t clients() const;
  /// {"privacy": {...}} under DP-FedAvg (epsilon spent over the planned rounds), else empty.
  nlohmann::json privacy_report() const;

  struct State;

 private:
  friend class FederatedTrainer;
  explicit FederatedServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace driftrec::nn
