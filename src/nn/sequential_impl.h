#pragma once
// The sequential models' internals shared by the files that train them (sequential.cpp: supervised
// fit and serving; reinforce.cpp: off-policy-corrected REINFORCE): the built network, its side
// tables, feature buffers and the scorer the losses use. Not part of the public API.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/models/model.h"
#include "driftrec/nn/sequential.h"
#include "loss.h"
#include "pch.h"
#include "seqnets.h"

namespace driftrec::nn {

struct SequentialModel::Impl {
  std::string kind;
  std::shared_ptr<SeqEncoder> net;
  std::vector<float> item_matrix;  // copy of the item vectors [n_items, d] for scoring
  int64_t d = 0, max_len = 0;
  // What the built network uses (saved with the weights).
  int64_t n_behaviors = 0, n_attributes = 0, attr_width = 0;
  // Content tower: 0 none, 1 cnn, 2 attention; vocabulary + 1, tokens per item, token width, item-vector width.
  int64_t text_kind = 0, n_tokens = 0, max_tokens = 0, token_dim = 0, feature_dim = 0;
  torch::Tensor attr_t, tokens_t, words_t, features_t, known_t;  // side tables (fit: real; load: placeholders)
  int64_t repeat_behaviors = 0;  // > 0: the repeat head is on, over this many behaviour types
  // category_softmax: number of categories (0 = off), each item's category and initial bias [n_items]
  // (fit: real; load: placeholders).
  // With several categories per item: (item, class) pairs, pair_item_t [P] the item of each, and
  // item_class_t / class_bias_t per pair.
  int64_t n_classes = 0;
  torch::Tensor item_class_t, class_bias_t, pair_item_t;
  int64_t class_pairs() const { return pair_item_t.defined() ? pair_item_t.numel() : 0; }
  int64_t n_domains = 0;      // crossdomain: number of domains D (the state is D queries of size d)
  torch::Tensor item_domain;  // crossdomain: domain of each item [n_items] long (the net's buffer once built)
  // category_softmax's history prior (category_prior_half_life > 0): the state ends in the history's
  // category mix, an event k events back weighted decay^k.
  double class_prior_decay = 0.0;  // 0: no prior
  bool has_class_prior() const { return class_prior_decay > 0; }
  int64_t enc_dim() const { return d * std::max<int64_t>(1, n_domains); }
  int64_t state_dim() const { return enc_dim() + (has_class_prior() ? n_classes : 0); }
  bool gaps = false, times = false;
  // request_time: the inputs carry the time to the next event, the newest one the time to the
  // request (UserState::now); a training position's is replaced by "not known" with this probability.
  bool request_time = false;
  double request_time_dropout = 0.0;
  // Copies of the repeat head for scoring: table [repeat_behaviors + 1, kRecencyBuckets], gate [d] + bias.
  std::vector<float> repeat_table, repeat_gate;
  float repeat_gate_bias = 0;
  int64_t behavior_slots() const { return std::max(n_behaviors, repeat_behaviors); }

  /// One sequence encoder of `name` (sasrec, gru4rec, hstu, caser) with the config's parameters.
  std::shared_ptr<SeqEncoder> make_encoder(const std::string& name, const nlohmann::json& c,
                                           const SideInfo& side) const {
    const double dropout = c["dropout"].get<double>();
    if (name == "sasrec") {
      BlockOptions block;
      block.d = d;
      block.heads = c["heads"].get<int64_t>();
      block.ffn = c["ffn_dim"].get<int64_t>() > 0 ? c["ffn_dim"].get<int64_t>() : d;
      block.dropout = dropout;
      block.filter_mix = c.value("filter_mix", 0.0);
      block.bins = c.value("filter_bins", int64_t{3});
      block.post_norm = c.value("norm", std::string("pre")) == "post";
      block.swiglu = c.value("ffn_act", std::string("gelu")) == "swiglu";
      return std::make_shared<SasRecNet>(side, max_len, c["layers"].get<int64_t>(), block);
    }
    if (name == "hstu")
      return std::make_shared<HstuNet>(side, d, max_len, c["layers"].get<int64_t>(), c["heads"].get<int64_t>(), times,
                                       dropout);
    if (name == "gru4rec") {
      const auto hidden = c.contains("hidden") && c["hidden"].get<int64_t>() > 0 ? c["hidden"].get<int64_t>() : d;
      const auto layers = c["layers"].get<int64_t>();
      return std::make_shared<Gru4RecNet>(side, d, hidden, layers, c.contains("cell") && c["cell"] == "lstm", dropout);
    }
    return std::make_shared<CaserNet>(side, d, c["window"].get<int64_t>(), c["h_filters"].get<int64_t>(),
                                      c["v_filters"].get<int64_t>(), dropout);
  }

  void build(const nlohmann::json& c, int64_t n_items) {
    d = c["dim"].get<int64_t>();
    const double half_life = n_classes > 0 ? c.value("category_prior_half_life", 0.0) : 0.0;
    class_prior_decay = half_life > 0 ? std::pow(0.5, 1.0 / half_life) : 0.0;
    max_len = c["max_len"].get<int64_t>();
    SideInfo side;
    side.n_items = n_items;
    side.n_behaviors = n_behaviors;
    side.gaps = gaps;
    side.next_gaps = request_time;
    side.n_attributes = n_attributes;
    if (n_attributes > 0) side.attributes = attr_t;
    if (text_kind > 0) {
      side.text_pool = text_kind == 1 ? "cnn" : "attention";
      side.tokens = tokens_t;
      side.n_tokens = n_tokens;
      side.token_dim = token_dim;
      side.word_vectors = words_t;
    }
    if (feature_dim > 0) side.item_features = features_t;
    if (side.content()) {
      side.known = known_t;
      side.id_dropout = c["id_dropout"].get<double>();
    }
    if (kind == "crossdomain") {
      SideInfo small;  // the encoders' own embeddings are replaced by the shared one
      small.n_items = 2;
      const auto fh = c["fusion_hidden"].get<int64_t>() > 0 ? c["fusion_hidden"].get<int64_t>() : n_domains * d;
      net = std::make_shared<CrossDomainNet>(
          side, d, n_domains, item_domain, [&] { return make_encoder(c["encoder"], c, small); }, c["fusion"], fh,
          c["dropout"].get<double>());
    } else {
      net = make_encoder(kind, c, side);
    }
    if (c.value("item_bias", false)) net->query_width = d;
    if (repeat_behaviors > 0) net->repeat = net->register_module("repeat", RepeatHead(state_dim(), repeat_behaviors));
    if (n_classes > 0)
      net->category = net->register_module(
          "category", CategoryHead(enc_dim(), n_classes, item_class_t, class_bias_t, class_prior_decay, pair_item_t));
  }
  /// Keeps the padding rows of the embedding tables at zero after an optimiser step.
  void zero_padding_rows() {
    torch::NoGradGuard g;
    for (auto* e : {&net->emb->items, &net->emb->attributes, &net->emb->behaviors, &net->emb->gaps, &net->emb->tokens,
                    &net->emb->next_gaps})
      if (*e) (*e)->weight[0].zero_();
  }
  void snapshot_items() {
    torch::NoGradGuard g;
    auto w = net->emb->all_items().contiguous();
    item_matrix.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    if (const auto* x = dynamic_cast<const CrossDomainNet*>(net.get())) item_domain = x->item_domain;
    if (net->repeat) {
      auto t = (net->repeat->table.detach() * kRepeatScale).contiguous();
      repeat_table.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
      auto gw = net->repeat->gate->weight.detach().contiguous();
      repeat_gate.assign(gw.data_ptr<float>(), gw.data_ptr<float>() + gw.numel());
      repeat_gate_bias = net->repeat->gate->bias.item<float>();
    }
  }
  /// Adds the repeat bonus of the state's window to its scores (out: n_items floats).
  void add_repeat_bonus(const models::UserState& s, float* out, std::int32_t n_items) const {
    if (repeat_behaviors == 0 || s.history.empty()) return;
    double z = repeat_gate_bias;
    for (std::size_t k = 0; k < s.vector.size() && k < repeat_gate.size(); ++k)
      z += static_cast<double>(repeat_gate[k]) * s.vector[k];
    const double gate = z > 30 ? z : std::log1p(std::exp(z));
    const auto ev = window(s.history);
    const auto n = static_cast<int64_t>(ev.size());
    for (int64_t p = 0; p < n; ++p) {
      const auto& e = ev[static_cast<std::size_t>(p)];
      if (e.item <= 0 || e.item >= n_items) continue;
      const auto beh = std::clamp<int64_t>(e.behavior, 0, repeat_behaviors - 1) + 1;
      out[e.item] += static_cast<float>(
          gate * repeat_table[static_cast<std::size_t>(beh * kRecencyBuckets + recency_bucket(n - 1 - p))]);
    }
  }
  torch::Tensor shape_tensor(int64_t n_items, int64_t n_users) const {
    return torch::tensor({n_items, n_users, n_behaviors, static_cast<int64_t>(gaps), n_attributes, attr_width,
                          static_cast<int64_t>(times), repeat_behaviors, n_domains, text_kind, n_tokens, max_tokens,
                          token_dim, feature_dim, n_classes, class_pairs(), static_cast<int64_t>(request_time)});
  }

  /// Item domains as a tensor (crossdomain).
  torch::Tensor domains_of(const torch::Tensor& ids) const { return item_domain.index_select(0, ids); }
  /// Scores [N, S] of N states h [N, state_dim] against S item vectors [S, d] (items: their ids,
  /// needed for crossdomain; undefined = all items in order).
  torch::Tensor logits(const torch::Tensor& h, const torch::Tensor& vectors, const torch::Tensor& items) const {
    if (n_domains == 0) return torch::matmul(h.narrow(-1, 0, d), vectors.t());  // a prior's mix follows the d
    const auto N = h.size(0), S = vectors.size(0);
    auto all = torch::matmul(h.view({N * n_domains, d}), vectors.t()).view({N, n_domains, S});
    auto dom = items.defined() ? domains_of(items) : item_domain;
    return all.gather(1, dom.view({1, 1, S}).expand({N, 1, S})).squeeze(1);
  }
  /// Every item's score per state [N, n_items]: the inner products, or with category_softmax the
  /// class-factored log-probabilities.
  torch::Tensor item_scores(const torch::Tensor& h) const {
    auto z = inner_products(h);
    return net->category ? net->category->log_probs(h, z) : z;
  }
  /// The plain inner products [N, n_items] of states h with every item (before any category head).
  torch::Tensor inner_products(const torch::Tensor& h) const {
    return logits(h, net->emb->all_items(), torch::Tensor());
  }
  /// The scores [N, S] of the items `ids` [S]; with category_softmax an item's score needs its whole
  /// category, so they are read from the full matrix.
  torch::Tensor item_scores(const torch::Tensor& h, const torch::Tensor& ids) const {
    if (net->category) return item_scores(h).index_select(1, ids);
    return logits(h, net->emb->item_vectors(ids), ids);
  }
  /// Score of one item per state: h [N, state_dim], items [N] -> [N].
  torch::Tensor row_logits(const torch::Tensor& h, const torch::Tensor& items) const {
    auto v = net->emb->item_vectors(items);  // [N, d]
    if (n_domains == 0) return (h.narrow(-1, 0, d) * v).sum(-1);
    const auto N = h.size(0);
    auto q = h.view({N, n_domains, d}).gather(1, domains_of(items).view({N, 1, 1}).expand({N, 1, d})).squeeze(1);
    return (q * v).sum(-1);
  }

  /// Left-padded feature buffers for B rows of length L.
  struct Buffer {
    int64_t B, L;
    std::vector<int64_t> items, behaviors, gaps, times, next_gaps;
    Buffer(int64_t b, int64_t l, const Impl& m)
        : B(b),
          L(l),
          items(static_cast<std::size_t>(b * l), 0),
          behaviors(m.behavior_slots() > 0 ? items.size() : 0, 0),
          gaps(m.gaps ? items.size() : 0, 0),
          times(m.times ? items.size() : 0, 0),
          next_gaps(m.request_time ? items.size() : 0, 0) {}
    /// One event at row b, column p; `next_ts` is the time of the next event (or of the request),
    /// nullopt when not known.
    void set(const Impl& m, int64_t b, int64_t p, int64_t item, int64_t behavior, int64_t ts, bool first,
             int64_t prev_ts, std::optional<int64_t> next_ts) {
      const auto i = static_cast<std::size_t>(b * L + p);
      items[i] = item;
      if (!behaviors.empty()) behaviors[i] = std::clamp<int64_t>(behavior, 0, m.behavior_slots() - 1) + 1;
      if (!gaps.empty()) gaps[i] = gap_bucket(first, ts - prev_ts);
      if (!times.empty()) times[i] = ts;
      if (!next_gaps.empty()) next_gaps[i] = next_ts ? next_gap_bucket(*next_ts - ts) : kNextGapUnknown;
    }
    /// Row `row`, from column `offset` on: the events in order (gaps measured between them; the
    /// newest event's time to the request `now`, when known).
    void set_events(const Impl& m, int64_t row, int64_t offset, const std::vector<data::Event>& ev,
                    std::optional<int64_t> now = std::nullopt) {
      for (std::size_t p = 0; p < ev.size(); ++p)
        set(m, row, offset + static_cast<int64_t>(p), ev[p].item, ev[p].behavior, ev[p].ts, p == 0,
            p == 0 ? 0 : ev[p - 1].ts, p + 1 < ev.size() ? std::optional<int64_t>(ev[p + 1].ts) : now);
    }
    Features features() const {
      auto t = [&](const std::vector<int64_t>& v) {
        return v.empty() ? torch::Tensor() : torch::tensor(v, torch::kLong).view({B, L});
      };
      return {t(items), t(behaviors), t(gaps), t(times), t(next_gaps)};
    }
  };

  /// Features of one history's events (all of them, oldest first) as a [1, n] batch.
  Features features(const std::vector<data::Event>& ev) const {
    Buffer buf(1, static_cast<int64_t>(ev.size()), *this);
    buf.set_events(*this, 0, 0, ev);
    return buf.features();
  }
  /// The last `max_len` events of a history.
  std::vector<data::Event> window(const std::vector<data::Event>& h) const {
    const auto n = std::min<std::size_t>(h.size(), static_cast<std::size_t>(max_len));
    return {h.end() - static_cast<std::ptrdiff_t>(n), h.end()};
  }
  /// Hidden vector [d] of the newest position (asked without a time).
  torch::Tensor last_hidden(const std::vector<data::Event>& ev) const {
    auto h = net->encode(features(ev));
    return h[0][h.size(1) - 1];
  }
};

// Item scores for the losses, through the model's own scoring (tied embeddings, per-domain queries).
class TrainingScorer : public ItemScorer {
 public:
  TrainingScorer(const SequentialModel::Impl& m, int64_t n_items) : m_(m), n_items_(n_items) {}
  torch::Tensor scores(const torch::Tensor& h, const torch::Tensor& ids) const override {
    return ids.defined() ? m_.item_scores(h, ids) : m_.item_scores(h);
  }
  torch::Tensor row_scores(const torch::Tensor& h, const torch::Tensor& items) const override {
    if (m_.net->category) return m_.net->category->target_log_probs(h, m_.inner_products(h), items);
    return m_.row_logits(h, items);
  }
  bool normalised() const override { return static_cast<bool>(m_.net->category); }
  int64_t n_items() const override { return n_items_; }
  torch::Tensor item_matrix() const override {
    return m_.n_domains == 0 && !m_.net->category ? m_.net->emb->all_items() : torch::Tensor();
  }

 private:
  const SequentialModel::Impl& m_;
  int64_t n_items_;
};

// Parameters in registration order, each tensor once (the cross-domain encoders share one
// embedding module, which parameters() lists once per encoder).
inline std::vector<torch::Tensor> unique_parameters(torch::nn::Module& net) {
  std::vector<torch::Tensor> out;
  std::set<const void*> seen;
  for (const auto& p : net.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
  return out;
}

}  // namespace driftrec::nn
