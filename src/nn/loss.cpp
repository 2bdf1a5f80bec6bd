#include "loss.h"

#include <cmath>

#include "driftrec/core/error.h"

namespace driftrec::nn {

torch::Tensor RepeatBonus::of(const torch::Tensor& items_per_row) const {
  return (weights * items.eq(items_per_row.unsqueeze(1))).sum(-1);
}

torch::Tensor RepeatBonus::dense(int64_t n_items) const {
  return torch::zeros({weights.size(0), n_items}, weights.options()).scatter_add(1, items, weights);
}

RepeatBonus RepeatBonus::rows(const torch::Tensor& which) const {
  RepeatBonus out;
  if (defined()) out = {weights.index_select(0, which), items.index_select(0, which)};
  if (excluded.defined()) out.excluded = excluded.index_select(0, which);
  return out;
}

namespace {

// The part of a sparse bonus (weights W, items I [N, L]) that falls in the item chunk [c0, c1): the
// columns inside it, and their positions in the chunk (clamped; weight masked where outside).
// Undefined without a bonus (L = 0).
struct ChunkColumns {
  torch::Tensor inside, at;
  ChunkColumns(const torch::Tensor& I, int64_t c0, int64_t c1) {
    if (I.size(1) == 0) return;
    inside = I.ge(c0).logical_and(I.lt(c1));
    at = (I - c0).clamp(0, c1 - c0 - 1);
  }
};

// Logits of the states h against the chunk [c0, c1) of E, plus the bonus columns in it (`cols`,
// that chunk's; unread without a bonus, W [N, 0]).
torch::Tensor chunk_logits(const torch::Tensor& h, const torch::Tensor& E, const torch::Tensor& W,
                           const ChunkColumns& cols, int64_t c0, int64_t c1) {
  auto logits = h.mm(E.slice(0, c0, c1).t());  // [N, c]
  if (W.size(1) > 0) logits.scatter_add_(1, cols.at, W * cols.inside);
  return logits;
}

// Cross-entropy over item chunks: forward keeps a running max and sum of exponentials per row;
// backward recomputes each chunk's logits and accumulates (softmax - onehot) products. A sparse
// bonus (W, I [N, L]; L may be 0) adds W[r, l] to row r's logit of item I[r, l], and its gradient
// is the softmax (minus one at the target) read at those columns.
struct ChunkedCrossEntropy : public torch::autograd::Function<ChunkedCrossEntropy> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& E,
                               const torch::Tensor& targets, const torch::Tensor& W, const torch::Tensor& I,
                               int64_t chunk) {
    const auto N = h.size(0), n = E.size(0);
    auto run_max = torch::full({N}, -INFINITY, h.options());
    auto run_sum = torch::zeros({N}, h.options());
    for (int64_t c0 = 0; c0 < n; c0 += chunk) {
      const auto c1 = std::min(n, c0 + chunk);
      const auto logits = chunk_logits(h, E, W, ChunkColumns(I, c0, c1), c0, c1);
      const auto new_max = torch::maximum(run_max, std::get<0>(logits.max(1)));
      run_sum = run_sum * torch::exp(run_max - new_max) + torch::exp(logits - new_max.unsqueeze(1)).sum(1);
      run_max = new_max;
    }
    const auto lse = run_max + torch::log(run_sum);
    auto target_logit = (h * E.index_select(0, targets)).sum(1);
    if (W.size(1) > 0) target_logit += (W * I.eq(targets.unsqueeze(1))).sum(1);
    ctx->save_for_backward({h, E, targets, W, I, lse});
    ctx->saved_data["chunk"] = chunk;
    return (lse - target_logit).mean();
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const auto &h = saved[0], &E = saved[1], &targets = saved[2], &W = saved[3], &I = saved[4], &lse = saved[5];
    const auto chunk = ctx->saved_data["chunk"].toInt();
    const auto N = h.size(0), n = E.size(0);
    const auto g = grad_out[0] / static_cast<double>(N);  // d mean / d row
    auto gh = torch::zeros_like(h), gE = torch::zeros_like(E), gW = torch::zeros_like(W);
    for (int64_t c0 = 0; c0 < n; c0 += chunk) {
      const auto c1 = std::min(n, c0 + chunk);
      const auto Ec = E.slice(0, c0, c1);
      const ChunkColumns cols(I, c0, c1);
      const auto p = torch::exp(chunk_logits(h, E, W, cols, c0, c1) - lse.unsqueeze(1)) * g;  // softmax * g, [N, c]
      gh.add_(p.mm(Ec));
      gE.slice(0, c0, c1).add_(p.t().mm(h));
      if (W.size(1) > 0) gW.add_(p.gather(1, cols.at) * cols.inside);
    }
    gh.sub_(E.index_select(0, targets) * g);
    gE.index_add_(0, targets, -h * g);
    if (W.size(1) > 0) gW.sub_(I.eq(targets.unsqueeze(1)).to(W.scalar_type()) * g);
    return {gh, gE, torch::Tensor(), gW, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor chunked_cross_entropy(const torch::Tensor& h, const torch::Tensor& E, const torch::Tensor& targets,
                                    int64_t chunk, const RepeatBonus& bonus) {
  if (chunk < 1) throw InvalidInput("chunked_cross_entropy: chunk must be >= 1");
  const auto none_w = torch::zeros({h.size(0), 0}, h.options());
  const auto none_i = torch::zeros({h.size(0), 0}, targets.options());
  return ChunkedCrossEntropy::apply(h, E, targets, bonus.defined() ? bonus.weights : none_w,
                                    bonus.defined() ? bonus.items : none_i, chunk);
}

torch::Tensor Loss::pairs(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& rows,
                          const torch::Tensor& items, const RepeatBonus& repeat) const {
  return (*this)(scorer, h.index_select(0, rows), items, repeat.rows(rows));
}

torch::Tensor SoftmaxLoss::streamed_items(const ItemScorer& scorer) const {
  return chunk_ > 0 ? scorer.item_matrix() : torch::Tensor();
}

torch::Tensor SoftmaxLoss::streamed(const ItemScorer& scorer, const torch::Tensor& E, const torch::Tensor& h,
                                    const torch::Tensor& targets, const RepeatBonus& repeat) const {
  auto ce = chunked_cross_entropy(h, E, targets, chunk_, repeat);
  if (smoothing_ <= 0) return ce;
  auto target_score = scorer.row_scores(h, targets);
  if (repeat.defined()) target_score = target_score + repeat.of(targets);
  return ce + smoothing_ * (target_score - streamed_mean_candidate_score(E, h, repeat)).mean();
}

torch::Tensor SoftmaxLoss::streamed_mean_candidate_score(const torch::Tensor& E, const torch::Tensor& h,
                                                         const RepeatBonus& repeat) {
  // Sum over the real items (1..n-1) of <h, E_i> = <h, sum_i E_i>, plus the bonus of the columns
  // on a real item; less what the excluded items (distinct, real) contribute.
  auto sum = torch::mv(h, E.slice(0, 1).sum(0));
  auto count = torch::full({h.size(0)}, static_cast<double>(E.size(0) - 1), h.options());
  if (!repeat.defined()) return sum / count;
  auto counted = repeat.items.ge(1);
  if (repeat.excluded.defined() && repeat.excluded.size(1) > 0) {
    // Each row's excluded items sorted; one of them equal to its predecessor (or padding) is not
    // counted again. A bonus column on an excluded item is no candidate's.
    const auto sorted = std::get<0>(repeat.excluded.sort(/*dim=*/1));
    auto distinct = sorted.ge(1);
    distinct.slice(1, 1).logical_and_(sorted.slice(1, 1).ne(sorted.slice(1, 0, sorted.size(1) - 1)));
    // Each row's sum of its distinct excluded items' rows of E [N, d], without an [N, K, d] copy.
    const auto K = sorted.size(1);
    const auto offsets = torch::arange(0, sorted.numel(), K, sorted.options());
    const auto excluded_rows = std::get<0>(torch::embedding_bag(E, sorted.flatten(), offsets, false, /*sum*/ 0, false,
                                                                distinct.flatten().to(E.scalar_type())));
    sum = sum - (excluded_rows * h).sum(1);
    count = count - distinct.sum(1).to(count.scalar_type());
    const auto at = torch::searchsorted(sorted, repeat.items).clamp_max(sorted.size(1) - 1);
    counted.logical_and_(sorted.gather(1, at).ne(repeat.items));
  }
  return (sum + (repeat.weights * counted).sum(1)) / count.clamp_min(1.0);
}

torch::Tensor SoftmaxLoss::logits(const ItemScorer& scorer, const torch::Tensor& h, const RepeatBonus& repeat) {
  auto out = scorer.scores(h, torch::Tensor());
  return repeat.defined() ? out + repeat.dense(out.size(1)) : out;
}

torch::Tensor SoftmaxLoss::mean_candidate_score(const torch::Tensor& logits, const RepeatBonus& repeat) {
  if (!repeat.excluded.defined()) return logits.slice(1, 1).mean(1);
  auto candidate = torch::ones_like(logits).scatter(1, repeat.excluded, 0.0);
  candidate.select(1, 0).zero_();  // the padding (also what an empty excluded slot points at)
  return (logits * candidate).sum(1) / candidate.sum(1).clamp_min(1.0);
}

torch::Tensor SoftmaxLoss::operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                                      const RepeatBonus& repeat) const {
  if (const auto E = streamed_items(scorer); E.defined()) return streamed(scorer, E, h, targets, repeat);
  if (scorer.normalised() && !repeat.defined() && smoothing_ <= 0) return -scorer.row_scores(h, targets).mean();
  const auto logits = SoftmaxLoss::logits(scorer, h, repeat);
  auto ce = torch::nn::functional::cross_entropy(logits, targets);
  if (smoothing_ <= 0) return ce;
  const auto target_score = logits.gather(1, targets.unsqueeze(1)).squeeze(1);
  return ce + smoothing_ * (target_score - mean_candidate_score(logits, repeat)).mean();
}

torch::Tensor SoftmaxLoss::pairs(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& rows,
                                 const torch::Tensor& items, const RepeatBonus& repeat) const {
  if (const auto E = streamed_items(scorer); E.defined())
    return streamed(scorer, E, h.index_select(0, rows), items, repeat.rows(rows));
  const auto logits = SoftmaxLoss::logits(scorer, h, repeat);
  const auto target_score = logits.index({rows, items});
  const auto ce = (torch::logsumexp(logits, 1).index_select(0, rows) - target_score).mean();
  if (smoothing_ <= 0) return ce;
  return ce + smoothing_ * (target_score - mean_candidate_score(logits, repeat).index_select(0, rows)).mean();
}

torch::Tensor BinaryLoss::operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                                     const RepeatBonus& repeat) const {
  auto neg = torch::randint(1, scorer.n_items(), {targets.size(0)}, torch::kLong);
  auto pos_logit = scorer.row_scores(h, targets);
  auto neg_logit = scorer.row_scores(h, neg);
  if (repeat.defined()) {
    pos_logit = pos_logit + repeat.of(targets);
    neg_logit = neg_logit + repeat.of(neg);
  }
  return -(torch::log_sigmoid(pos_logit) + torch::log_sigmoid(-neg_logit)).mean();
}

SampledSoftmaxLoss::SampledSoftmaxLoss(int64_t negatives, const std::vector<std::int64_t>& item_counts,
                                       Sampling sampling)
    : negatives_(negatives), sampling_(item_counts.empty() ? Sampling::uniform : sampling) {
  if (negatives < 1) throw InvalidInput("sampled softmax: negatives must be >= 1");
  if (item_counts.empty()) return;  // uniform
  std::vector<float> p(item_counts.begin(), item_counts.end());
  p[0] = 0;
  probs_ = torch::tensor(p);
  if (!(probs_.sum().item<double>() > 0)) throw InvalidInput("sampled softmax: the item counts are all zero");
  probs_ = probs_ / probs_.sum();
  log_q_ = torch::log(probs_.clamp_min(1e-12));
}

SampledSoftmaxLoss::Candidates SampledSoftmaxLoss::draw(const torch::Tensor& targets, int64_t n_items) const {
  Candidates c;
  if (sampling_ == Sampling::uniform) {
    c.items = torch::randint(1, n_items, {negatives_}, torch::kLong);
  } else if (sampling_ == Sampling::popularity) {
    c.items = torch::multinomial(probs_, negatives_, true);
    c.log_q = log_q_.index_select(0, c.items);
    c.target_log_q = log_q_.index_select(0, targets);
  } else {
    const auto drawn = torch::randint(1, n_items, {negatives_}, torch::kLong);
    c.items = std::get<0>(torch::_unique(torch::cat({targets, drawn}), false, false));
    // log P(i in the set) = log(1 - exp(N log(1 - p_i) + S log(1 - 1/(n-1)))).
    const double N = static_cast<double>(targets.size(0)), S = static_cast<double>(negatives_);
    const double uniform_miss = S * std::log1p(-1.0 / static_cast<double>(std::max<int64_t>(2, n_items - 1)));
    auto log_incl = [&](const torch::Tensor& items) {
      const auto miss = N * torch::log1p(-probs_.index_select(0, items).clamp_max(1.0 - 1e-7)) + uniform_miss;
      return torch::log(-torch::expm1(miss).clamp_max(-1e-30));
    };
    c.log_q = log_incl(c.items);
    c.target_log_q = log_incl(targets);
  }
  return c;
}

torch::Tensor SampledSoftmaxLoss::operator()(const ItemScorer& scorer, const torch::Tensor& h,
                                             const torch::Tensor& targets, const RepeatBonus& repeat) const {
  const int64_t n_items = scorer.n_items();
  const auto cand = draw(targets, n_items);
  const auto& neg = cand.items;
  auto pos_logit = scorer.row_scores(h, targets).unsqueeze(1);  // [N, 1]
  auto neg_logit = scorer.scores(h, neg);                       // [N, C]
  if (repeat.defined()) {
    pos_logit = pos_logit + repeat.of(targets).unsqueeze(1);
    // Shared negatives: map history items to their slot among the distinct negatives.
    auto uniq = std::get<0>(torch::_unique(neg, true, false));
    auto slot = torch::full({n_items}, uniq.size(0), torch::kLong);
    slot.index_put_({uniq}, torch::arange(uniq.size(0), torch::kLong));
    auto hist_slot = slot.index_select(0, repeat.items.reshape({-1})).view(repeat.items.sizes());
    auto per_uniq = torch::zeros({repeat.weights.size(0), uniq.size(0) + 1}, repeat.weights.options())
                        .scatter_add(1, hist_slot, repeat.weights);
    neg_logit = neg_logit + per_uniq.index_select(1, slot.index_select(0, neg));
  }
  if (cand.log_q.defined()) {
    pos_logit = pos_logit - cand.target_log_q.unsqueeze(1);
    neg_logit = neg_logit - cand.log_q.unsqueeze(0);
  }
  neg_logit = neg_logit.masked_fill(neg.unsqueeze(0).eq(targets.unsqueeze(1)), -INFINITY);  // accidental hits
  auto logits = torch::cat({pos_logit, neg_logit}, 1);
  return torch::nn::functional::cross_entropy(logits, torch::zeros({logits.size(0)}, torch::kLong));
}

std::unique_ptr<Loss> make_loss(const std::string& loss, int64_t negatives, const std::string& sampling,
                                const std::vector<std::int64_t>& item_counts, int64_t softmax_chunk,
                                double label_smoothing) {
  if (softmax_chunk < 0) throw InvalidInput("softmax_chunk must be >= 0");
  if (!(label_smoothing >= 0 && label_smoothing < 1)) throw InvalidInput("label_smoothing must lie in [0, 1)");
  if (loss == "softmax") return std::make_unique<SoftmaxLoss>(softmax_chunk, label_smoothing);
  if (loss == "bce") return std::make_unique<BinaryLoss>();
  if (loss == "sampled") {
    using S = SampledSoftmaxLoss::Sampling;
    if (sampling == "uniform") return std::make_unique<SampledSoftmaxLoss>(negatives, std::vector<std::int64_t>());
    if (sampling == "popularity") return std::make_unique<SampledSoftmaxLoss>(negatives, item_counts, S::popularity);
    if (sampling == "mixed") return std::make_unique<SampledSoftmaxLoss>(negatives, item_counts, S::mixed);
    throw InvalidInput("sampling must be uniform, popularity or mixed, not '" + sampling + "'");
  }
  throw InvalidInput("unknown loss '" + loss + "' (softmax, sampled, bce)");
}

}  // namespace driftrec::nn
