#pragma once
// Patience-based early stopping on a validation score (higher is better), kept by the epoch loop
// (epoch_loop.h) for every iterative model, which keeps its best weights when record() says so.

namespace driftrec::train {

class EarlyStopping {
 public:
  explicit EarlyStopping(int patience, double best = -1.0, int bad = 0) : patience_(patience), best_(best), bad_(bad) {}
  /// Records one validation score; true when it is a new best (save the weights now).
  bool record(double score) {
    if (score > best_) {
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
  double best_;
  int bad_;
};

}  // namespace driftrec::train
