#pragma once
// Training checkpoints of the sequential models: net.pt, optimizer.pt, best.pt (the best
// parameters so far), item_optimizer.pt (the lazy item-table optimiser, when one is used),
// average.pt (the moving average of the weights, when one is kept) and state.json, written to a
// temporary directory and renamed over the previous checkpoint.
#include <string>
#include <utility>
#include <vector>

#include "lazy_adam.h"
#include "pch.h"
#include "seqnets.h"

namespace driftrec::nn {

class Checkpoint {
 public:
  struct State {
    int epoch = 0;
    double best = -1;
    int bad = 0;
    int64_t step = 0;
    bool stopped = false;
  };
  explicit Checkpoint(std::string dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }
  /// Throws IoError when the files cannot be written.
  void save(SeqEncoder& net, torch::optim::Optimizer& opt, const std::vector<torch::Tensor>& best, const State& st,
            const LazyAdam* item_opt, const std::vector<torch::Tensor>* average = nullptr) const;
  /// Throws NotFound without a checkpoint, CorruptModel when it does not fit the model.
  State load(SeqEncoder& net, torch::optim::Optimizer& opt, std::vector<torch::Tensor>& best, LazyAdam* item_opt,
             std::vector<torch::Tensor>* average = nullptr) const;

 private:
  std::string dir_;
};

}  // namespace driftrec::nn
