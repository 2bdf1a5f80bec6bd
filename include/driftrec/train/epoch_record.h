#pragma once
// The typed per-epoch record every iterative model reports (train layer, DESIGN.md). model.json's
// "history" is a list of these, and the epoch a model kept is read from it.
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace driftrec::train {

/// One finished epoch of training.
struct EpochRecord {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int epoch = 0;         ///< 1-based
  double loss = kNone;   ///< mean training loss of the epoch (NaN: the model has none, e.g. ials)
  double valid = kNone;  ///< validation objective, higher is better (NaN: not checked this epoch)
  double seconds = 0.0;  ///< wall time of this fit() up to the end of this epoch's training (earlier checks included)
  bool best = false;     ///< this check beat every earlier one (these weights are kept)
  bool early_stop = false;   ///< training stops after this epoch
  bool out_of_time = false;  ///< ... because the time budget ran out (early_stop is set too)

  bool has_loss() const { return loss == loss; }
  bool validated() const { return valid == valid; }
  /// {"epoch", "seconds", "loss"?, "valid"?, "best"?, "early_stop"?, "out_of_time"?}: the model.json history entry.
  nlohmann::json to_json() const;
  /// Reads a history entry (model.json). Throws InvalidInput when "epoch" is missing or not an integer.
  static EpochRecord from_json(const nlohmann::json& j);
  /// "loss=0.312000 seconds=4.100000 valid=0.051000 (early stop)" (or "(time budget)"): the progress line.
  std::string message() const;
};

using EpochCallback = std::function<void(const EpochRecord&)>;

/// A run's records as model.json's "history" array.
nlohmann::json history_json(const std::vector<EpochRecord>& history);

/// The epoch whose weights a run kept: the last check flagged `best` (what the run decided, with its
/// min_delta); for histories without flags, the best check (the first of equals); 0 when nothing
/// was validated.
int best_validated_epoch(const std::vector<EpochRecord>& history);

}  // namespace driftrec::train
