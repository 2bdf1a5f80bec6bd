#include "driftrec/train/epoch_loop.h"

#include <chrono>

#include "driftrec/core/error.h"
#include "driftrec/train/early_stopping.h"

namespace driftrec::train {

EpochState run_epochs(const EpochPlan& plan, const EpochHooks& hooks, const EpochCallback& on_epoch,
                      const ProgressCallback& progress) {
  if (!hooks.train) throw InvalidInput(plan.stage + ": the epoch loop needs a train step");
  const auto start = std::chrono::steady_clock::now();
  EpochState state = plan.resume;
  EarlyStopping stopping(plan.patience, state.best, state.bad);
  for (int epoch = state.epoch + 1; epoch <= plan.epochs && !state.stopped; ++epoch) {
    EpochRecord rec;
    rec.epoch = epoch;
    rec.loss = hooks.train(epoch);
    // Training time so far (earlier checks included), read before this epoch's check.
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool due = plan.eval_every > 0 && (epoch % plan.eval_every == 0 || epoch == plan.epochs);
    if (hooks.validate && due) {
      rec.valid = hooks.validate();
      rec.best = stopping.record(rec.valid);
      if (rec.best && hooks.keep_best) hooks.keep_best();
      rec.early_stop = !rec.best && stopping.should_stop();
    }
    state = {epoch, stopping.best(), stopping.bad(), rec.early_stop};
    if (hooks.after_epoch) hooks.after_epoch(state);
    if (on_epoch) on_epoch(rec);
    if (progress)
      progress({plan.stage, static_cast<std::size_t>(epoch), static_cast<std::size_t>(plan.epochs), rec.message()});
  }
  return state;
}

}  // namespace driftrec::train
