#pragma once
// Patience-based early stopping on a validation score (higher is better), kept by the epoch loop
// (epoch_loop.h) for every iterative model, which keeps its best weights when record() says so.
// A check improves only when it beats the best so far by more than `min_delta` (Keras' and
// Lightning's rule): a curve that creeps up by less stops after `patience` checks, and the kept
// weights are those of the last check that counted as an improvement.
#include "driftrec/core/config.h"

namespace driftrec::train {

class EarlyStopping {
 public:
  static constexpr double kNoBest = -1.0;  ///< `best` before any check (scores are above it)
  explicit EarlyStopping(int patience, double min_delta = 0.0, double best = kNoBest, int bad = 0)
      : patience_(patience), min_delta_(min_delta), best_(best), bad_(bad) {}
  /// Records one validation score; true when it is a new best (save the weights now). The first
  /// check always is: min_delta measures gains over a best, and there is none yet.
  bool record(double score) {
    if (score > best_ + (best_ == kNoBest ? 0.0 : min_delta_)) {
      best_ = score;
      bad_ = 0;
      return true;
    }
    ++bad_;
    return false;
  }
  /// True once `patience` checks in a row brought no improvement.
  bool should_stop() const { return bad_ >= patience_; }
  double best() const { return best_; }
  int bad() const { return bad_; }

 private:
  int patience_;
  double min_delta_;
  double best_;
  int bad_;
};

/// The `min_delta` setting every iteratively trained model declares beside its `patience`.
inline ParamSpec min_delta_param() {
  return float_param("min_delta", 0.0,
                     "early stopping: smallest gain of the validation objective over the best so far that "
                     "counts as an improvement (resets patience, keeps those weights; 0 = any gain)",
                     0.0);
}

}  // namespace driftrec::train
