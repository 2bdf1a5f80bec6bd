#pragma once
// Supervised training of the sequential models one epoch at a time (EpochTrainer): batched steps
// (one process, or data-parallel over ranks) and, for a private fit, DP-SGD steps over users,
// sharing the loss, learning-rate schedule, clipping and optimisers. Internal to src/nn; split
// out of sequential.cpp, which builds it in fit().
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "batches.h"
#include "checkpoint.h"
#include "data_parallel.h"
#include "driftrec/core/rng.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/train/epoch_loop.h"
#include "lazy_adam.h"
#include "pch.h"
#include "private_gradient.h"
#include "sequential_impl.h"
#include "weight_average.h"

namespace driftrec::nn {

/// torch::nn::utils::clip_grad_norm_ over dense and sparse gradients: sparse ones are coalesced
/// first, so rows looked up several times count once with their summed gradient.
inline void clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  double sq = 0;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    if (p.grad().is_sparse()) p.mutable_grad() = p.grad().coalesce();
    const auto g = p.grad().is_sparse() ? p.grad()._values() : p.grad();
    sq += g.pow(2).sum().item<double>();
  }
  const double coef = max_norm / (std::sqrt(sq) + 1e-6);
  if (coef >= 1) return;
  torch::NoGradGuard no_grad;
  for (const auto& p : params)
    if (p.grad().defined()) p.mutable_grad().mul_(coef);
}

/// Learning rate at optimiser step `step` (1-based): linear warm-up, then constant or cosine decay.
inline double learning_rate(double base, int64_t step, int64_t warmup, bool cosine, int64_t total_steps) {
  if (warmup > 0 && step < warmup) return base * static_cast<double>(step) / static_cast<double>(warmup);
  if (!cosine) return base;
  const double progress =
      static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total_steps - warmup));
  return base * 0.5 * (1.0 + std::cos(3.141592653589793 * std::min(1.0, progress)));
}

/// Supervised training one epoch at a time: the objective (loss.h), AdamW for the dense weights and,
/// when the item table's gradient is sparse, LazyAdam for it; the schedule, clipping, checkpoints.
class EpochTrainer {
 public:
  /// dp: a user-level private fit (each training sequence is one user's): Poisson-sampled users
  /// per step, per-user clipping and noise (PrivateGradient) in place of batches and clip_norm.
  /// world: data-parallel (each global batch split between the ranks, gradients summed; the item
  /// table's gradient dense, so one AdamW steps every weight).
  EpochTrainer(SequentialModel::Impl& m, const nlohmann::json& c, TrainingSet set, std::uint64_t seed,
               std::optional<privacy::DpSgdPlan> dp, DataParallel* world = nullptr)
      : m_(m),
        set_(std::move(set)),
        seed_(seed),
        rng_root_(seed),
        params_(unique_parameters(*m.net)),
        dp_(std::move(dp)),
        world_(world),
        lazy_(!dp_ && !world && c["loss"] != "softmax" && c["sparse_items"].get<bool>()),
        sparse_lookup_(lazy_ || (dp_ && c["loss"] != "softmax")),
        base_lr_(c["lr"].get<double>()),
        clip_(c["clip_norm"].get<double>()),
        warmup_(c["warmup_steps"].get<int64_t>()),
        cosine_(c["lr_schedule"] == "cosine"),
        total_steps_(c["epochs"].get<int64_t>() *
                     (dp_ ? dp_->steps_per_epoch : static_cast<int64_t>(set_.sequences().batches.size()))) {
    std::vector<torch::Tensor> dense;
    for (const auto& p : params_)
      if (!lazy_ || !p.is_same(m.net->emb->items->weight)) dense.push_back(p);
    opt_ = std::make_unique<torch::optim::AdamW>(
        dense, torch::optim::AdamWOptions(base_lr_).weight_decay(c["weight_decay"].get<double>()));
    if (lazy_) item_opt_.emplace(m.net->emb->items->weight, base_lr_, c["weight_decay"].get<double>());
    if (dp_) private_.emplace(params_, dp_->clip);
    if (c["weight_average"].get<double>() > 0) average_.emplace(params_, c["weight_average"].get<double>());
  }

  /// Trains one epoch; returns the mean loss per target position.
  double run(int epoch) {
    const SparseItemGrad sparse_scope(*m_.net->emb, sparse_lookup_);
    if (average_) average_->restore(params_);  // training continues from the raw weights
    m_.net->train();
    // Each epoch's randomness depends only on (seed, epoch), so a resumed run repeats it exactly.
    torch::manual_seed(seed_ + static_cast<std::uint64_t>(epoch) * 7919);
    Rng rng = rng_root_.fork(static_cast<std::uint64_t>(epoch));
    double total = 0;
    int64_t positions = 0;
    if (dp_) {
      for (int64_t s = 0; s < dp_->steps_per_epoch; ++s) total += private_step(rng, &positions);
    } else {
      if (set_.sequences().last_targets > 0) rebucket(set_.sequences(), rng);
      auto& batches = set_.sequences().batches;
      std::sort(batches.begin(), batches.end());
      for (std::size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng.uniform_int(i)]);
      for (const auto& batch : batches) total += world_ ? step_shared(batch, &positions) : step(batch, &positions);
    }
    if (average_) average_->apply(params_);  // validation and the released model use the average
    m_.net->eval();
    m_.snapshot_items();
    return total / static_cast<double>(std::max<int64_t>(1, positions));
  }

  const std::vector<torch::Tensor>& params() const { return params_; }
  Checkpoint::State state(const train::EpochState& st) const { return {st.epoch, st.best, st.bad, step_, st.stopped}; }
  /// With weight averaging the checkpoint holds the raw weights and the average beside them.
  void save(Checkpoint& ckpt, const std::vector<torch::Tensor>& best, const train::EpochState& st) {
    const bool averaged = average_ && average_->applied();
    if (averaged) average_->restore(params_);
    ckpt.save(*m_.net, *opt_, best, state(st), item_opt_ ? &*item_opt_ : nullptr,
              average_ ? &average_->tensors() : nullptr);
    if (averaged) average_->apply(params_);
  }
  train::EpochState load(Checkpoint& ckpt, std::vector<torch::Tensor>& best) {
    const auto st =
        ckpt.load(*m_.net, *opt_, best, item_opt_ ? &*item_opt_ : nullptr, average_ ? &average_->tensors() : nullptr);
    if (average_) average_->apply(params_);  // as run() leaves them
    step_ = st.step;
    return {st.epoch, st.best, st.bad, st.stopped};
  }

 private:
  /// Sets the scheduled learning rate of the step about to be taken.
  double next_lr() {
    const double lr = learning_rate(base_lr_, ++step_, warmup_, cosine_, total_steps_);
    for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    return lr;
  }

  /// Clips the gradients (clip_norm) and steps the optimisers; the padding rows stay zero.
  void optimizer_step() {
    if (clip_ > 0) item_opt_ ? clip_grad_norm(params_, clip_) : (void)torch::nn::utils::clip_grad_norm_(params_, clip_);
    opt_->step();
    if (item_opt_) item_opt_->step();
    m_.zero_padding_rows();
    if (average_) average_->update(params_, step_);
  }

  /// One optimiser step on a batch; returns the batch's summed loss and adds its target positions.
  double step(const std::vector<std::size_t>& batch, int64_t* positions) {
    int64_t n = 0;
    const auto l = set_.loss(batch, &n);
    if (n == 0) return 0.0;  // no target behaviour in this batch
    const double lr = next_lr();
    opt_->zero_grad();
    if (item_opt_) {
      item_opt_->set_lr(lr);
      item_opt_->zero_grad();
    }
    l.backward();
    optimizer_step();
    *positions += n;
    return l.item<double>() * static_cast<double>(n);
  }

  /// One optimiser step on a global batch split between the ranks: this rank takes every
  /// world-th sequence, and the gradients of the summed losses are added up over the ranks and
  /// divided by the global number of target positions — the single-process step on the same batch.
  double step_shared(const std::vector<std::size_t>& batch, int64_t* positions) {
    std::vector<std::size_t> mine;
    for (auto i = static_cast<std::size_t>(world_->rank()); i < batch.size();
         i += static_cast<std::size_t>(world_->world()))
      mine.push_back(batch[i]);
    for (auto& p : params_) p.mutable_grad() = torch::Tensor();
    int64_t n = 0;
    double local = 0;
    if (!mine.empty()) {
      const auto l = set_.loss(mine, &n);
      if (n > 0) {
        (l * static_cast<double>(n)).backward();
        local = l.item<double>() * static_cast<double>(n);
      }
    }
    const auto sums = world_->allreduce_gradients(params_, {static_cast<double>(n), local});
    if (sums[0] <= 0) return 0.0;  // no target behaviour anywhere in this batch
    {
      torch::NoGradGuard g;
      for (auto& p : params_) p.mutable_grad().div_(sums[0]);
    }
    next_lr();
    optimizer_step();
    *positions += static_cast<int64_t>(sums[0]);
    return sums[1];
  }

  /// One DP-SGD step: each user (training sequence) joins with probability q; each joined user's
  /// gradient of their mean loss is clipped and summed, noise is added and the noisy mean is
  /// applied. Returns the joined users' summed loss and adds their target positions.
  double private_step(Rng& rng, int64_t* positions) {
    private_->begin_step();
    double total = 0;
    std::vector<std::size_t> one(1);
    for (std::size_t i = 0; i < set_.sequences().seqs.size(); ++i) {
      if (!rng.bernoulli(dp_->q)) continue;
      one[0] = i;
      int64_t n = 0;
      const auto l = set_.loss(one, &n);
      if (n == 0) continue;  // nothing to learn from this user: a zero gradient
      private_->clear_user();
      l.backward();
      private_->add_user();
      total += l.item<double>() * static_cast<double>(n);
      *positions += n;
    }
    next_lr();
    private_->release(dp_->sigma, dp_->expected_batch());
    opt_->step();
    m_.zero_padding_rows();
    if (average_) average_->update(params_, step_);  // post-processing of the private iterates
    return total;
  }

  SequentialModel::Impl& m_;
  TrainingSet set_;
  std::uint64_t seed_;
  Rng rng_root_;
  std::vector<torch::Tensor> params_;
  std::optional<privacy::DpSgdPlan> dp_;
  DataParallel* world_;
  bool lazy_, sparse_lookup_;
  double base_lr_, clip_;
  int64_t warmup_;
  bool cosine_;
  int64_t total_steps_;
  int64_t step_ = 0;
  std::unique_ptr<torch::optim::AdamW> opt_;
  std::optional<LazyAdam> item_opt_;
  std::optional<PrivateGradient> private_;
  std::optional<WeightAverage> average_;
};

}  // namespace driftrec::nn
