// SequentialModel::reinforce: off-policy-corrected top-K REINFORCE on logged clicks (rl/reinforce.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/nn/sequential.h"
#include "pch.h"
#include "sequential_impl.h"

namespace driftrec::nn {

namespace {

void check_actions(const std::vector<rl::LoggedAction>& actions, std::int32_t n_items, const std::string& who) {
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    const std::string at = who + "logged action " + std::to_string(i + 1) + ": ";
    if (a.item <= 0 || a.item >= n_items) throw InvalidInput(at + "item index out of range");
    if (!(a.beta > 0 && a.beta <= 1)) throw InvalidInput(at + "logging probability must lie in (0, 1]");
    if (!std::isfinite(a.reward)) throw InvalidInput(at + "reward is not finite");
    if (a.history.empty()) throw InvalidInput(at + "empty history (the policy needs a state)");
  }
}

/// Per-batch sums that make up an epoch's record.
struct EpochSums {
  double loss = 0, weight = 0, capped = 0, log_pi = 0;
  std::size_t n = 0;
};

/// A batch of logged actions: each state's window and what was shown, with its probability and reward.
struct LoggedBatch {
  std::vector<std::vector<data::Event>> windows;
  int64_t length = 0;  ///< the longest window
  std::vector<int64_t> items;
  std::vector<double> beta, reward;
};

LoggedBatch gather(SequentialModel::Impl& m, const std::vector<rl::LoggedAction>& actions,
                   const std::vector<std::size_t>& order, std::size_t from, std::size_t to) {
  LoggedBatch lb;
  for (auto i = from; i < to; ++i) {
    const auto& a = actions[order[i]];
    lb.windows.push_back(m.window(a.history));
    lb.length = std::max<int64_t>(lb.length, static_cast<int64_t>(lb.windows.back().size()));
    lb.items.push_back(a.item);
    lb.beta.push_back(a.beta);
    lb.reward.push_back(a.reward);
  }
  return lb;
}

/// log pi(logged item | state) under the current policy, with padding and the items in each
/// state's window masked (the serving path never shows them).
torch::Tensor logged_log_pi(SequentialModel::Impl& m, const TrainingScorer& scorer, const LoggedBatch& lb,
                            std::int32_t n_items) {
  const auto B = static_cast<int64_t>(lb.items.size()), L = lb.length;
  SequentialModel::Impl::Buffer buf(B, L, m);
  std::vector<int64_t> mask_rows, mask_cols;
  for (int64_t b = 0; b < B; ++b) {
    const auto& w = lb.windows[static_cast<std::size_t>(b)];
    buf.set_events(m, b, L - static_cast<int64_t>(w.size()), w);
    for (const auto& e : w)
      if (e.item > 0 && e.item < n_items && e.item != lb.items[static_cast<std::size_t>(b)]) {
        mask_rows.push_back(b);
        mask_cols.push_back(e.item);
      }
  }
  auto h = m.net->encode(buf.features()).select(1, L - 1).reshape({B, m.state_dim()});
  auto logits = scorer.scores(h, torch::Tensor());
  auto mask = torch::zeros({B, n_items}, torch::kBool);
  mask.index_put_({torch::tensor(mask_rows, torch::kLong), torch::tensor(mask_cols, torch::kLong)}, true);
  mask.select(1, 0).fill_(true);
  logits = logits.masked_fill(mask, -std::numeric_limits<float>::infinity());
  return torch::log_softmax(logits, 1).gather(1, torch::tensor(lb.items, torch::kLong).view({B, 1})).squeeze(1);
}

/// The corrected weights: constants of the step (Chen et al.), computed from pi without a gradient.
torch::Tensor step_weights(const torch::Tensor& log_pi, const LoggedBatch& lb, const rl::ReinforceOptions& o,
                           EpochSums& sum) {
  const auto lp = log_pi.detach().to(torch::kDouble).contiguous();
  const double* lpp = lp.data_ptr<double>();
  std::vector<float> w(lb.items.size());
  for (std::size_t b = 0; b < w.size(); ++b) {
    const double pi = std::exp(lpp[b]);
    const double ratio = pi / lb.beta[b];
    w[b] = static_cast<float>(rl::reinforce_weight(pi, lb.beta[b], lb.reward[b], o.cap, o.top_k));
    sum.weight += std::min(ratio, o.cap);
    sum.capped += ratio > o.cap;
    sum.log_pi += lpp[b];
  }
  return torch::tensor(w);
}

rl::ReinforceEpoch epoch_record(int epoch, const EpochSums& sum, std::chrono::steady_clock::time_point t0) {
  rl::ReinforceEpoch rec;
  const double n = static_cast<double>(std::max<std::size_t>(1, sum.n));
  rec.epoch = epoch;
  rec.loss = sum.loss / n;
  rec.mean_weight = sum.weight / n;
  rec.capped = sum.capped / n;
  rec.mean_log_pi = sum.log_pi / n;
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rec;
}

}  // namespace

std::vector<rl::ReinforceEpoch> SequentialModel::reinforce(
    const std::vector<rl::LoggedAction>& actions, const rl::ReinforceOptions& o,
    const std::function<void(const rl::ReinforceEpoch&)>& progress) {
  rl::validate(o);
  const std::string who = kind_ + " reinforce: ";
  auto& m = *impl_;
  if (!m.net || !fitted()) throw InvalidInput(who + "the model has not been fitted");
  if (m.net->repeat) throw InvalidInput(who + "models with the repeat head are not supported");
  if (actions.empty()) throw InvalidInput(who + "no logged clicks to learn from");
  check_actions(actions, n_items_, who);
  torch::manual_seed(o.seed);
  torch::set_num_threads(std::max(1, o.threads));
  const auto params = unique_parameters(*m.net);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  const TrainingScorer scorer(m, n_items_);
  const Rng root(o.seed);
  std::vector<std::size_t> order(actions.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<rl::ReinforceEpoch> out;
  const auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    m.net->train();
    Rng rng = root.fork(static_cast<std::uint64_t>(epoch));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(i)]);
    EpochSums sum;
    for (std::size_t from = 0; from < order.size(); from += o.batch_size) {
      const auto batch = gather(m, actions, order, from, std::min(order.size(), from + o.batch_size));
      const auto B = static_cast<double>(batch.items.size());
      const auto log_pi = logged_log_pi(m, scorer, batch, n_items_);
      auto loss = -(step_weights(log_pi, batch, o, sum) * log_pi).sum() / B;
      opt.zero_grad();
      loss.backward();
      if (o.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, o.clip_norm);
      opt.step();
      m.zero_padding_rows();
      sum.loss += loss.item<double>() * B;
      sum.n += batch.items.size();
    }
    m.net->eval();
    m.snapshot_items();
    out.push_back(epoch_record(epoch, sum, t0));
    if (progress) progress(out.back());
  }
  return out;
}

}  // namespace driftrec::nn
