#include "driftrec/train/epoch_loop.h"

#include <chrono>

#include "driftrec/core/error.h"
#include "driftrec/train/early_stopping.h"

namespace driftrec::train {

void refuse_time_budget(double time_budget_s, const std::string& who) {
  if (time_budget_s > 0)
    throw InvalidInput(who +
                       ": a private fit runs its planned epochs (the privacy accounting counts them); drop the "
                       "time budget");
}

EpochState run_epochs(const EpochPlan& plan, const EpochHooks& hooks, const EpochCallback& on_epoch,
                      const ProgressCallback& progress) {
  if (!hooks.train) throw InvalidInput(plan.stage + ": the epoch loop needs a train step");
  const auto start = std::chrono::steady_clock::now();
  EpochState state = plan.resume;
  EarlyStopping stopping(plan.patience, plan.min_delta, state.best, state.bad);
  for (int epoch = state.epoch + 1; epoch <= plan.epochs && !state.stopped; ++epoch) {
    EpochRecord rec;
    rec.epoch = epoch;
    rec.loss = hooks.train(epoch);
    // Training time so far (earlier checks included), read before this epoch's check.
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool over = plan.time_budget_s > 0 && rec.seconds >= plan.time_budget_s && epoch < plan.epochs;
    if (hooks.agree) over = hooks.agree(over);
    const bool due = plan.eval_every > 0 && (epoch % plan.eval_every == 0 || epoch == plan.epochs || over);
    if (hooks.validate && due) {
      rec.valid = hooks.validate();
      rec.best = stopping.record(rec.valid);
      if (rec.best && hooks.keep_best) hooks.keep_best();
      rec.early_stop = !rec.best && stopping.should_stop();
    }
    // A patience stop is final (a resumed run stays stopped); a budget stop is not: resuming from
    // its checkpoint trains on under a new budget.
    state = {epoch, stopping.best(), stopping.bad(), rec.early_stop};
    rec.out_of_time = over;
    rec.early_stop = rec.early_stop || over;
    if (hooks.after_epoch) hooks.after_epoch(state);
    if (on_epoch) on_epoch(rec);
    if (progress)
      progress({plan.stage, static_cast<std::size_t>(epoch), static_cast<std::size_t>(plan.epochs), rec.message()});
    if (over) break;
  }
  return state;
}

}  // namespace driftrec::train
