#pragma once
// The one epoch loop of every iterative model (bpr, ials, the LibTorch models): runs the epochs,
// validates every `eval_every` epochs and at the last, asks the model to keep its weights at each
// new best, stops after `patience` checks without improvement, and reports every epoch as a typed
// EpochRecord (and a progress line). The model owns its weights; the loop owns the schedule.
#include <functional>
#include <string>

#include "driftrec/core/log.h"
#include "driftrec/train/epoch_record.h"

namespace driftrec::train {

/// Where a run stands after an epoch (what a checkpoint stores to resume it).
struct EpochState {
  int epoch = 0;       ///< last finished epoch
  double best = -1.0;  ///< best validation objective so far
  int bad = 0;         ///< checks since the best
  bool stopped = false;
};

struct EpochPlan {
  std::string stage;  ///< progress stage, e.g. "train bpr"
  int epochs = 1;
  int eval_every = 1;  ///< validate every this many epochs and at the last (0: never)
  int patience = 3;    ///< checks without improvement before stopping
  EpochState resume;   ///< a resumed run starts after resume.epoch with its early-stopping state
  /// Stop after the first epoch that ends past this many seconds of this call (0 = no budget). That
  /// epoch is validated even when no check is due, so its weights can be the ones kept.
  double time_budget_s = 0.0;
  double min_delta = 0.0;  ///< smallest validation gain that counts as an improvement (early_stopping.h)
};

struct EpochHooks {
  std::function<double(int epoch)> train;  ///< runs one epoch; returns its mean loss (EpochRecord::kNone: none)
  std::function<double()> validate;        ///< validation objective (empty: no validation)
  std::function<void()> keep_best;         ///< the current weights are the best so far: copy them
  std::function<void(const EpochState&)> after_epoch;  ///< e.g. write a checkpoint (optional)
  /// Several processes: every rank must take rank 0's time-budget decision (optional).
  std::function<bool(bool over_budget)> agree;
};

/// A private fit runs its planned epochs (the privacy accounting counts them): throws InvalidInput
/// naming `who` when a time budget is set.
void refuse_time_budget(double time_budget_s, const std::string& who);

/// Runs epochs resume.epoch+1 .. plan.epochs until early stopping or the time budget. Reports each
/// epoch to `on_epoch` and `progress` (both optional). Returns the final state (`stopped` only for
/// a patience stop); the caller restores the weights it kept.
EpochState run_epochs(const EpochPlan& plan, const EpochHooks& hooks, const EpochCallback& on_epoch,
                      const ProgressCallback& progress);

}  // namespace driftrec::train
