#include "batches.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "driftrec/core/error.h"
#include "driftrec/data/dataset.h"

namespace driftrec::nn {

namespace {

// Length buckets: a stable sort of `order` by length, cut into batches (the trainer shuffles the
// batch order each epoch).
void cut_batches(TrainingSequences& t, std::vector<std::size_t> order) {
  std::stable_sort(order.begin(), order.end(),
                   [&t](auto a, auto b) { return t.seqs[a].length() < t.seqs[b].length(); });
  for (std::size_t i = 0; i < order.size(); i += t.batch_size)
    t.batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                           order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + t.batch_size)));
}

// Whether row r's event has a behaviour the model learns to predict (is_target is indexed by
// behaviour).
bool target_row(const data::InteractionLog& log, const std::vector<char>& is_target, std::size_t r) {
  const auto b = static_cast<std::size_t>(log.behavior[r]);
  return b < is_target.size() && is_target[b] != 0;
}

}  // namespace

TrainingSequences training_sequences(const data::InteractionLog& log, std::int32_t n_users, int64_t max_len,
                                     std::size_t batch_size, const std::string& who, int64_t prefix_stride,
                                     const std::vector<char>* is_target) {
  if (prefix_stride < 0) throw InvalidInput(who + "prefix_stride must be >= 0");
  TrainingSequences t;
  t.last_targets = prefix_stride;
  t.batch_size = batch_size;
  const auto any_target = [&](int64_t from, int64_t to) {  // rows [from, to]
    if (!is_target) return true;
    for (auto r = from; r <= to; ++r)
      if (target_row(log, *is_target, static_cast<std::size_t>(r))) return true;
    return false;
  };
  for (std::int32_t u = 1; u < n_users; ++u) {
    const auto b = log.user_begin(u), e = log.user_end(u);
    if (e - b < 2) continue;
    if (prefix_stride == 0) {
      t.seqs.push_back({std::max(b, e - max_len - 1), e});
      continue;
    }
    // Newest targets e - 1, e - 1 - k, ... (ascending), each with up to max_len events before it.
    const auto first = (e - 1) - ((e - 1 - (b + 1)) / prefix_stride) * prefix_stride;
    for (auto target = first; target < e; target += prefix_stride)
      if (any_target(std::max(b + 1, target - prefix_stride + 1), target))
        t.seqs.push_back({std::max(b, target - max_len), target + 1});
  }
  if (t.seqs.empty())
    throw InvalidInput(who + (prefix_stride > 0 ? "no training event of a target behaviour follows an earlier event"
                                                : "no user has two or more training events"));
  std::vector<std::size_t> order(t.seqs.size());
  std::iota(order.begin(), order.end(), 0);
  cut_batches(t, std::move(order));
  return t;
}

double mean_prefix_context(const std::vector<int64_t>& lengths, int64_t max_len) {
  double events = 0, positions = 0;
  for (const auto n : lengths) {
    const auto p = n - 1;  // training positions: every event after the first
    if (p < 1) continue;
    const auto m = std::min(p, max_len);  // windows still growing, then full
    events += static_cast<double>(m) * static_cast<double>(m + 1) / 2 + static_cast<double>(p - m) * max_len;
    positions += static_cast<double>(p);
  }
  return positions > 0 ? events / positions : 0.0;
}

int64_t auto_prefix_stride(double context, int64_t max_context) {
  if (max_context < 1) throw InvalidInput("prefix_max_context must be >= 1");
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(context / static_cast<double>(max_context) - 1e-9)));
}

void rebucket(TrainingSequences& t, Rng& rng) {
  std::vector<std::size_t> order(t.seqs.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(i)]);
  t.batches.clear();
  cut_batches(t, std::move(order));
}

TrainBatch make_batch(const SequentialModel::Impl& m, const data::InteractionLog& log, const TrainingSequences& t,
                      const std::vector<std::size_t>& batch, const std::vector<char>& is_target) {
  int64_t L = 0;
  for (auto s : batch) L = std::max(L, t.seqs[s].length() - 1);
  SequentialModel::Impl::Buffer buf(static_cast<int64_t>(batch.size()), L, m);
  std::vector<int64_t> tgt(batch.size() * static_cast<std::size_t>(L), 0);
  const auto K = static_cast<std::size_t>(t.future_targets);
  std::vector<int64_t> future(K > 0 ? tgt.size() * K : 0, 0);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto& s = t.seqs[batch[b]];
    const auto n = s.end - s.from - 1, off = L - n;  // left padding
    for (int64_t p = 0; p < n; ++p) {
      const auto r = static_cast<std::size_t>(s.from + p);
      buf.set(m, static_cast<int64_t>(b), off + p, log.item[r], log.behavior[r], log.ts[r], p == 0,
              p == 0 ? 0 : log.ts[r - 1], log.ts[r + 1]);  // inputs stop before the sample's last event
      if ((t.last_targets == 0 || p >= n - t.last_targets) && target_row(log, is_target, r + 1)) {
        const auto at = b * static_cast<std::size_t>(L) + static_cast<std::size_t>(off + p);
        tgt[at] = log.item[r + 1];
        const auto user_end = static_cast<std::size_t>(log.user_end(log.user[r]));
        std::size_t k = 0;
        for (auto f = r + 2; k < K && f < user_end; ++f)
          if (target_row(log, is_target, f)) future[at * K + k++] = log.item[f];
      }
    }
  }
  TrainBatch out{std::move(buf), torch::tensor(tgt, torch::kLong), {}};
  if (K > 0) out.future = torch::tensor(future, torch::kLong).reshape({-1, static_cast<int64_t>(K)});
  return out;
}

std::unique_ptr<Loss> make_training_loss(const nlohmann::json& c, const data::Dataset& train) {
  return make_loss(
      c["loss"], c["negatives"].get<int64_t>(), c["sampling"],
      c["sampling"] != "uniform" ? data::item_counts(train.log, train.n_items()) : std::vector<std::int64_t>(),
      c["softmax_chunk"].get<int64_t>(), c["label_smoothing"].get<double>());
}

RepeatBonus seen_mask(const torch::Tensor& items, const torch::Tensor& keep, const torch::Tensor& targets,
                      float weight) {
  const auto B = items.size(0), L = items.size(1);
  const auto causal = torch::ones({L, L}, torch::kLong).tril();  // [t, p]: p <= t
  auto hist = (items.unsqueeze(1) * causal.unsqueeze(0)).reshape({B * L, L}).index_select(0, keep);
  hist = hist.masked_fill(hist.eq(targets.unsqueeze(1)), 0);
  // One column per distinct item: in each row's sorted order, an item equal to its predecessor is
  // a repeat (stable sort, so the earliest occurrence keeps the item).
  const auto sorted = hist.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false);
  const auto& values = std::get<0>(sorted);
  auto repeat = torch::zeros_like(hist, torch::kBool);
  repeat.slice(1, 1).copy_(values.slice(1, 1).eq(values.slice(1, 0, L - 1)));
  hist = hist.masked_fill(torch::zeros_like(repeat).scatter(1, std::get<1>(sorted), repeat), 0);
  return {hist.ne(0).to(torch::kFloat) * weight, hist};
}

std::optional<double> seen_penalty_setting(const nlohmann::json& c) {
  const auto it = c.find("seen_penalty");
  if (it != c.end() && *it == "auto") return std::nullopt;
  if (it != c.end() && !it->is_number())
    throw InvalidInput("seen_penalty must be a number or auto, got " + it->dump() + " (an unresolved config?)");
  const double penalty = it == c.end() ? 0.0 : it->get<double>();
  if (penalty > 0 && c.value("exclude_seen", false))
    throw InvalidInput("seen_penalty and exclude_seen both set: exclude_seen is the infinite penalty, give one");
  return penalty;
}

double seen_penalty(const nlohmann::json& c) {
  const auto penalty = seen_penalty_setting(c);
  if (c.value("exclude_seen", false)) return std::numeric_limits<double>::infinity();
  if (!penalty) throw InvalidInput("seen_penalty auto is read from the training data: the fit resolves it first");
  return *penalty;
}

torch::Tensor batch_loss(SequentialModel::Impl& m, const Loss& loss, const ItemScorer& scorer, const TrainBatch& batch,
                         int64_t* n, double future_weight, double seen_penalty) {
  const bool exclude_seen = std::isinf(seen_penalty);
  auto feats = batch.inputs.features();
  if (feats.next_gaps.defined() && m.request_time_dropout > 0 && m.net->is_training()) {
    // Some positions learn without the time to their target, as a request without a clock is scored.
    const auto drop = torch::rand(feats.next_gaps.sizes()).lt(m.request_time_dropout) & feats.next_gaps.gt(0);
    feats.next_gaps = feats.next_gaps.masked_fill(drop, kNextGapUnknown);
  }
  auto h3 = m.net->encode(feats);
  auto keep = batch.targets.ne(0).nonzero().squeeze(1);
  *n = keep.numel();
  if (*n == 0) return {};
  auto h = h3.reshape({-1, m.state_dim()}).index_select(0, keep);
  auto t = batch.targets.index_select(0, keep);
  // Repeat head: per kept position, the bonus weight of each history column and its item.
  RepeatBonus repeat;  // [N, L] each
  if (m.net->repeat) {
    const auto Bn = h3.size(0), Ln = h3.size(1);
    repeat.weights =
        m.net->repeat->weights(h3, feats.items, feats.behaviors).reshape({Bn * Ln, Ln}).index_select(0, keep);
    repeat.items = feats.items.unsqueeze(1).expand({Bn, Ln, Ln}).reshape({Bn * Ln, Ln}).index_select(0, keep);
  }
  RepeatBonus mask;
  if (seen_penalty > 0) {
    mask = seen_mask(feats.items, keep, t, exclude_seen ? kSeenMask : static_cast<float>(-seen_penalty));
    repeat = repeat.defined()
                 ? RepeatBonus{torch::cat({repeat.weights, mask.weights}, 1), torch::cat({repeat.items, mask.items}, 1)}
                 : mask;
    if (exclude_seen) repeat.excluded = mask.items;  // label smoothing: no mass on the masked items
  }
  auto next = loss(scorer, h, t, repeat);
  if (!batch.future.defined() || future_weight <= 0) return next;
  // Every (target position, future item) pair: the position's state scored for that item.
  auto future = batch.future.index_select(0, keep);
  if (exclude_seen)  // a future item already in the position's history is no discovery
    future = future.masked_fill((future.unsqueeze(2) == mask.items.unsqueeze(1)).any(2), 0);
  const auto pairs = future.nonzero();  // [M, 2]: kept row, slot
  if (pairs.size(0) == 0) return next;
  const auto rows = pairs.select(1, 0);
  const auto items = future.index({rows, pairs.select(1, 1)});
  return next + future_weight * loss.pairs(scorer, h, rows, items, repeat);
}

}  // namespace driftrec::nn
