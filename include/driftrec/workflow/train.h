#pragma once
// Train-and-save and refit as library calls (the CLI's `train`, the Python module's
// driftrec.train): a model name, its configuration and the preprocessing in, a trained model with
// its typed epoch history, validation metrics and model.json record out.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/evaluator.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/train/epoch_record.h"

namespace driftrec::workflow {

struct TrainOptions {
  std::string model;  ///< registry name; may be empty with refit_from
  /// Parameter overrides over the model's defaults (with refit_from: over the source's config).
  nlohmann::json config = nlohmann::json::object();
  data::PrepareOptions prepare;       ///< ignored with refit_from (the source's split is used)
  std::optional<std::uint64_t> seed;  ///< default 42, or the refit source's seed
  int threads = 0;                    ///< 0 = all cores
  bool validate = true;               ///< early stopping and validation metrics on the validation cases
  bool include_seen = false;          ///< validation ranks already-seen items too
  /// Validation scores only targets new to their user (data::keep_new_targets, as evaluate's
  /// skip_repeats): early stopping then selects for discovery. Throws InvalidInput when no validation
  /// case keeps a target. Recorded in model.json ("validation_skip_repeats"; false when nothing was
  /// validated).
  bool skip_repeats = false;
  /// The validation metric early stopping maximises: hr@K, recall@K, precision@K, ndcg@K, map@K or
  /// mrr (graph benchmarks use recall@20). Recorded in model.json. Throws InvalidInput otherwise.
  std::string objective = "ndcg@10";
  /// When the validation lists (early stopping's and the recorded metrics') are asked for, which a
  /// model with `request_time` reads (workflow::split_request_time): "none" (without a time),
  /// "cutoff" (the validation period's first timestamp; temporal splits) or "arrival" (each case's
  /// first target). So a model meant to be read at a time is chosen as it will be read. Recorded in
  /// model.json ("validation_request_at"). Throws InvalidInput for another name, a cutoff on a split
  /// without one, or a time on data without timestamps.
  std::string request_at = "none";
  std::string checkpoint_dir;  ///< LibTorch models: checkpoint after every epoch
  bool resume = false;         ///< continue from the checkpoint in checkpoint_dir
  /// Iterative models stop after the first epoch that ends past this many seconds of training and
  /// keep their best validated weights (0 = no budget; recorded in model.json).
  double time_budget_s = 0.0;
  /// Retrain the model in this directory (same model, parameters, seed and split) on training +
  /// validation events, for its best validation epoch count.
  std::string refit_from;
  /// Data-parallel training: this process's rank in a job of world_size processes (LibTorch
  /// sequential models). Only rank 0's model is meant to be saved.
  models::DistributedOptions distributed;
  ProgressCallback progress;      ///< progress lines (epochs, evaluation)
  train::EpochCallback on_epoch;  ///< every finished epoch, typed
};

/// A trained model, ready to save or to use in memory.
struct TrainedModel {
  models::LoadedModel loaded;  ///< the model with its id maps and tables; meta = the record below
  data::Dataset train;         ///< the training events (their id maps go into the model directory)
  std::vector<train::EpochRecord> history;
  eval::EvalResult validation;  ///< metrics on the validation cases (empty without validation)
  double seconds = 0.0;         ///< wall time of fit()
  /// Writes the model directory (model.json with `loaded.meta` merged in). Throws IoError.
  void save(const std::string& dir) const;
};

/// The validation metrics training (early stopping) and tuning may maximise: hr@K, recall@K,
/// precision@K, ndcg@K or map@K (returns K) and mrr (returns 0). Anything else is an InvalidInput
/// naming `who`. One parser for `train --objective` and a search space's `objective`.
int objective_cutoff(const std::string& objective, const std::string& who);

/// Resolves the model, configuration, preprocessing and seed of a refit of `options.refit_from`
/// (throws InvalidInput for an ensemble or an already refit model, NotFound/CorruptModel for a bad
/// directory). Returns options ready for train_model with `refit_from` still set.
TrainOptions resolve_refit(TrainOptions options);

/// What train_model checks before it touches the data: the model name and configuration (the model
/// is constructed and dropped, so a bad parameter is refused with its name and range), the objective
/// and the time budget; with refit_from, the source directory. Throws what train_model would throw
/// for them (InvalidInput, NotFound, CorruptModel). A caller that reads a large log calls this first,
/// so a typo costs no load.
void check_train_options(TrainOptions options);

/// Prepares (filters, splits) `data`, fits the model with early stopping on validation NDCG@10
/// and evaluates it on the validation cases. Throws InvalidInput for a bad model name or
/// configuration or data that leaves no test case.
TrainedModel train_model(data::Dataset data, TrainOptions options);

/// An ensemble of trained model directories (the CLI's `ensemble`, driftrec.ensemble): members
/// trained on the same data, blended with `weights` (empty: fitted on the validation split, which
/// must then have cases). The result is a TrainedModel like any other; its record names the
/// members and their weights. Throws InvalidInput for fewer than two members, a member trained on
/// other data, or a weight count that does not match.
struct EnsembleOptions {
  std::vector<std::string> members;  ///< model directories
  std::vector<double> weights;       ///< empty: fit on validation
  /// The validation metric the weights are fitted to (as train's objective: hr@K, recall@K, ndcg@K, ...).
  std::string objective = "ndcg@10";
  std::string weights_from;                          ///< take the weights of this ensemble directory instead
  nlohmann::json config = nlohmann::json::object();  ///< the ensemble's parameters
  /// Preprocessing and split; unset: the members' own (recorded in their model.json; all must agree).
  std::optional<data::PrepareOptions> prepare;
  /// With the members' own split: its refit version (training + validation, no validation cases).
  bool refit = false;
  /// Fit the weights (and record the validation) on targets new to their user only, as train's
  /// skip_repeats; refused when no validation case keeps one. Recorded in model.json
  /// ("validation_skip_repeats").
  bool skip_repeats = false;
  /// When the validation lists the weights are fitted to are asked for, as TrainOptions::request_at
  /// (recorded as "validation_request_at").
  std::string request_at = "none";
  int threads = 0;
  ProgressCallback progress;
};
TrainedModel build_ensemble(data::Dataset data, EnsembleOptions options);
/// What build_ensemble checks before it touches the data (member count, weights or weights_from,
/// the objective, every member's model.json and, without `prepare`, that their preprocessing
/// agrees, the ensemble's parameters); throws as it would.
void check_ensemble_options(EnsembleOptions options);

}  // namespace driftrec::workflow
