#pragma once
// The sequence encoders behind the sequential models (internal to the nn layer; the tests include
// it to check each layer against a plain reference computation, causality and padding).
//
// Every encoder maps a batch of left-padded histories (newest event in the last column, padding
// id 0) to one hidden vector per position, [B, L, d]; position t only sees events <= t. The user
// state is the last position's vector and an item's score is its inner product with the item's
// vector from InputEmbedding::item_vectors (output embeddings are tied to the input ones).
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "category_head.h"
#include "pch.h"
#include "transformer.h"

namespace driftrec::nn {

/// One batch of left-padded histories. `behaviors`, `gaps` and `times` are defined only when the
/// model uses them.
struct Features {
  torch::Tensor items;      ///< [B, L] long, 0 = padding
  torch::Tensor behaviors;  ///< [B, L] long, behaviour index + 1 (0 = padding)
  torch::Tensor gaps;       ///< [B, L] long, time-gap bucket (see gap_bucket), 0 = padding
  torch::Tensor times;      ///< [B, L] long, event time (seconds, or positions without a clock)
  torch::Tensor next_gaps;  ///< [B, L] long, bucket of the time to the next event (see next_gap_bucket)
};

/// Features with item ids only.
inline Features items_only(torch::Tensor items) {
  Features f;
  f.items = std::move(items);
  return f;
}

/// Bucket of the time since the previous event: 1 for a first event, then 2 + floor(log2(1 + gap))
/// capped at kGapBuckets - 1. 0 is padding.
constexpr int64_t kGapBuckets = 40;
inline int64_t gap_bucket(bool first, int64_t gap_seconds) {
  if (first) return 1;
  const double g = static_cast<double>(std::max<int64_t>(0, gap_seconds));
  return std::min<int64_t>(kGapBuckets - 1, 2 + static_cast<int64_t>(std::floor(std::log2(1.0 + g))));
}

/// Bucket of the time from an event to the next one, or, at the newest event, to the request
/// (`request_time`): 0 padding, 1 not known, else 2 + max(0, floor(log2(1 + gap)) - 5), capped at
/// kNextGapBuckets - 1. Gaps under 64 s share bucket 2: whether the user is still in the same
/// visit matters, the seconds do not, and a replayed request's time (the event's own) is then no
/// more precise than a real one's.
constexpr int64_t kNextGapBuckets = 32;
constexpr int64_t kNextGapUnknown = 1;
inline int64_t next_gap_bucket(int64_t gap_seconds) {
  const double g = static_cast<double>(std::max<int64_t>(0, gap_seconds));
  const auto b = std::max<int64_t>(0, static_cast<int64_t>(std::floor(std::log2(1.0 + g))) - 5);
  return std::min<int64_t>(kNextGapBuckets - 1, 2 + b);
}

/// What the input layer embeds besides the item id (all switchable by configuration).
struct SideInfo {
  int64_t n_items = 0;
  int64_t n_behaviors = 0;   ///< > 0: behaviour-type embedding over this many types
  bool gaps = false;         ///< time-gap bucket embedding
  bool next_gaps = false;    ///< embedding of the time to the next event or the request (request_time)
  torch::Tensor attributes;  ///< [n_items, A] long attribute index + 1 (0 = none); undefined = off
  int64_t n_attributes = 0;
  // Content (text) tower, on when `tokens` or `item_features` is defined.
  std::string text_pool;        ///< "cnn" or "attention" (with tokens)
  torch::Tensor tokens;         ///< [n_items, T] long token index + 1 (0 = none); undefined = no text
  int64_t n_tokens = 0;         ///< vocabulary size + 1
  int64_t token_dim = 0;        ///< token embedding width (the word vectors' width, else d)
  torch::Tensor word_vectors;   ///< [n_tokens, token_dim] initial token embeddings; undefined = random
  torch::Tensor item_features;  ///< [n_items, k] float vectors brought by the user; undefined = none
  torch::Tensor known;          ///< [n_items] float, 1 = item has training events (its id embedding is used)
  double id_dropout = 0.0;      ///< training: probability of dropping an item's id embedding
  bool content() const { return tokens.defined() || item_features.defined(); }
};

/// Item id embedding (+ mean of the item's attribute embeddings, + the content tower) plus
/// behaviour-type and time-gap embeddings. Padding positions come out as zero vectors.
/// Content tower: the item's title tokens are embedded and pooled ("cnn": width-3 convolution,
/// ReLU, max over tokens; "attention": additive attention pooling, then a linear map), plus a
/// linear map of user-supplied item vectors. With content, an item without training events has
/// no id part (its vector is its content alone), and `id_dropout` drops id parts in training so
/// that content learns to stand alone (as DropoutNet does).
struct InputEmbeddingImpl : torch::nn::Module {
  InputEmbeddingImpl(const SideInfo& side, int64_t d);
  /// Content vectors of item ids [N] -> [N, d] (zero when the tower is off).
  torch::Tensor content_vectors(const torch::Tensor& ids);
  /// Vectors of the given item ids ([...] -> [..., d]); these are also the output embeddings.
  torch::Tensor item_vectors(const torch::Tensor& ids);
  /// All item vectors [n_items, d] (row 0 = padding = zero).
  torch::Tensor all_items();
  /// Input vectors [B, L, d] of a batch.
  torch::Tensor forward(const Features& f);
  int64_t d_;
  torch::nn::Embedding items{nullptr}, behaviors{nullptr}, gaps{nullptr}, attributes{nullptr}, next_gaps{nullptr};
  torch::Tensor attr_table;  // buffer [n_items, A]
  std::string text_pool_;
  double id_dropout_ = 0.0;
  /// Set while training with a lazy optimiser for the item table (lazy_adam.h): item id lookups
  /// then give sparse gradients (only the rows looked up), whatever the catalogue's size.
  bool sparse_item_grad = false;
  /// The same for the attribute table (federated clients, which step the rows they touched).
  bool sparse_attribute_grad = false;
  torch::Tensor token_table, feature_table, known;  // buffers [n_items, T], [n_items, k], [n_items]
  torch::nn::Embedding tokens{nullptr};
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear att_hidden{nullptr}, att_score{nullptr}, text_out{nullptr}, features_out{nullptr};
};
TORCH_MODULE(InputEmbedding);

/// Turns sparse item-table (and, with `attributes`, attribute-table) gradients on for a training
/// run, and off again however it ends.
class SparseItemGrad {
 public:
  SparseItemGrad(InputEmbeddingImpl& emb, bool on, bool attributes = false) : emb_(emb) {
    emb_.sparse_item_grad = on;
    emb_.sparse_attribute_grad = on && attributes;
  }
  ~SparseItemGrad() { emb_.sparse_item_grad = emb_.sparse_attribute_grad = false; }
  SparseItemGrad(const SparseItemGrad&) = delete;
  SparseItemGrad& operator=(const SparseItemGrad&) = delete;

 private:
  InputEmbeddingImpl& emb_;
};

/// Distance bucket of a past event seen from position t (distance = t - p in events): 0 for the
/// newest event itself, then 1 + floor(log2(distance)) capped at kRecencyBuckets - 1.
constexpr int64_t kRecencyBuckets = 12;
inline int64_t recency_bucket(int64_t distance) {
  if (distance <= 0) return 0;
  return std::min<int64_t>(kRecencyBuckets - 1,
                           1 + static_cast<int64_t>(std::floor(std::log2(static_cast<double>(distance)))));
}

/// Repeat-aware ("copy") score in the spirit of RepeatNet (Ren et al. 2019): an item already in
/// the history gets a bonus gate(h_t) * sum over its past occurrences p of w[behaviour_p, bucket(t - p)],
/// added to the inner-product score. gate = softplus(linear(h_t)) lets each user state decide how
/// much it repeats; w is learned per behaviour type (e.g. a cart counts more than a view) and recency.
struct RepeatHeadImpl : torch::nn::Module {
  RepeatHeadImpl(int64_t d, int64_t n_behaviors);
  /// h [B, L, d]; items/behaviors [B, L] (behaviour index + 1, 0 = padding). Returns
  /// W [B, L, L]: W[b, t, p] = gate(h[b, t]) * w[behaviors[b, p], bucket(t - p)] for a real event p <= t, else 0.
  torch::Tensor weights(const torch::Tensor& h, const torch::Tensor& items, const torch::Tensor& behaviors);
  torch::nn::Linear gate{nullptr};
  torch::Tensor table;  // [n_behaviors + 1, kRecencyBuckets], times kRepeatScale = the bonus weights
};
TORCH_MODULE(RepeatHead);
/// The table is stored divided by this factor, so the bonus moves at kRepeatScale times the
/// optimizer's step: a copy must outscore the best of tens of thousands of inner products
/// (several units) within the first epochs.
constexpr float kRepeatScale = 10.0f;

/// Base of the encoders: the input embedding plus a forward over a batch.
struct SeqEncoder : torch::nn::Module {
  /// [B, L] batch -> [B, L, d]. `attn` (optional): the last layer's weights over past positions
  /// [B, L, L] for the attention models; left undefined by the others.
  virtual torch::Tensor forward(const Features& f, torch::Tensor* attn = nullptr) = 0;
  /// The user states: forward() with, when `query_width` > 0, the last coordinate of every
  /// query_width-wide query set to 1, so that the last coordinate of an item's vector is a learned
  /// bias added to its score (an item's and its attributes' popularity), kept inside one inner
  /// product for the softmax, the server and any inner-product index.
  torch::Tensor encode(const Features& f, torch::Tensor* attn = nullptr);
  InputEmbedding emb{nullptr};
  RepeatHead repeat{nullptr};      ///< set (and registered) by the model when `repeat` is on
  CategoryHead category{nullptr};  ///< set (and registered) by the model when `category_softmax` is on
  int64_t query_width = 0;         ///< > 0: item_bias is on, queries are this wide (d)
};

/// SASRec: learned right-aligned positions + causal self-attention blocks; filter_mix > 0 mixes a
/// causal spectral filter over max_len events keeping filter_bins bins into every block. Pre-LN
/// blocks end in a final LayerNorm (`ln`); post-LN blocks (post_norm, BERT's and BSARec's layout)
/// normalise the input embedding with `ln` instead and end with the last block's own norm.
struct SasRecNet : SeqEncoder {
  /// block.window is set to max_len.
  SasRecNet(const SideInfo& side, int64_t max_len, int64_t layers, BlockOptions block);
  torch::Tensor forward(const Features& f, torch::Tensor* attn = nullptr) override;
  int64_t d_;
  bool post_norm_;
  torch::nn::Embedding positions{nullptr};
  std::vector<Block> blocks;
  torch::nn::LayerNorm ln{nullptr};
  torch::nn::Dropout drop{nullptr};
};

/// GRU4Rec: a GRU (or LSTM) over the item sequence. Histories are moved to right padding before
/// the recurrent layer so padding never enters a real position's state.
struct Gru4RecNet : SeqEncoder {
  Gru4RecNet(const SideInfo& side, int64_t d, int64_t hidden, int64_t layers, bool lstm, double dropout);
  torch::Tensor forward(const Features& f, torch::Tensor* attn = nullptr) override;
  bool lstm_;
  torch::nn::GRU gru{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear proj{nullptr};  // hidden -> d when they differ
  torch::nn::Dropout drop{nullptr};
};

/// Left-padded [B, L, ...] -> right-padded (row b shifted left by its padding), and back.
torch::Tensor to_right_padding(const torch::Tensor& x, const torch::Tensor& pad);
torch::Tensor to_left_padding(const torch::Tensor& x, const torch::Tensor& pad);

/// Caser: at each position, the last `window` item vectors as a [window, d] image; horizontal
/// filters of every height 1..window (max-pooled over time) and vertical filters (weighted sums of
/// the rows), then a ReLU layer and a linear map to the query vector. Caser's user embedding is
/// left out so that any history (a new user's too) can be encoded.
struct CaserNet : SeqEncoder {
  CaserNet(const SideInfo& side, int64_t d, int64_t window, int64_t h_filters, int64_t v_filters, double dropout);
  torch::Tensor forward(const Features& f, torch::Tensor* attn = nullptr) override;
  /// [B, L, d] -> [B, L, window, d]: each position's window (oldest row first, zeros before the start).
  torch::Tensor windows(const torch::Tensor& x) const;
  int64_t d_, window_;
  std::vector<torch::nn::Linear> horizontal;  // height h: [h*d] -> h_filters
  torch::Tensor vertical;                     // [v_filters, window]
  torch::nn::Linear fc{nullptr}, out{nullptr};
  torch::nn::Dropout drop{nullptr};
};

/// One HSTU layer (Zhai et al. 2024): U, V, Q, K = SiLU(W x); A = SiLU(Q K^T / sqrt(dh) + rab) / n
/// over causal, non-padding keys, with rab a learned bias by relative position and (when the data
/// has a clock) by log-bucketed time difference; y = x + W_o(LN(A V) * U).
struct HstuLayerImpl : torch::nn::Module {
  HstuLayerImpl(int64_t d, int64_t heads, int64_t max_len, bool time_bias, double dropout);
  /// x [B, L, d]; keep [B, 1, L, L] float (1 = causal, non-padding key); rel_pos [L, L] long
  /// distances; time_bucket [B, L, L] long or undefined. attn_out: mean weights over heads [B, L, L].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keep, const torch::Tensor& rel_pos,
                        const torch::Tensor& time_bucket, torch::Tensor* attn_out);
  int64_t heads_, norm_;
  torch::nn::LayerNorm ln_in{nullptr}, ln_attn{nullptr};
  torch::nn::Linear uvqk{nullptr}, out{nullptr};
  torch::Tensor pos_bias, time_bias;  // [H, max_len], [H, kTimeBuckets]
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(HstuLayer);
constexpr int64_t kTimeBuckets = 40;

struct HstuNet : SeqEncoder {
  HstuNet(const SideInfo& side, int64_t d, int64_t max_len, int64_t layers, int64_t heads, bool time_bias,
          double dropout);
  torch::Tensor forward(const Features& f, torch::Tensor* attn = nullptr) override;
  bool time_bias_;
  int64_t max_len_;
  std::vector<HstuLayer> layers;
  torch::nn::LayerNorm ln{nullptr};
  torch::nn::Dropout drop{nullptr};
};

/// Cross-domain encoder: one encoder per domain, each reading only its domain's events (compacted
/// in order, left-padded), then at every position the newest state of each domain (a learned
/// "empty" state while a domain has no event yet) is fused into one query per target domain:
///   concat     q_k = s_k + MLP([s_1; ...; s_D])_k
///   attention  q_k = s_k + sum_j a_kj V s_j,  a_k = softmax_j(<u_k, K s_j> / sqrt(d)) over the
///              domains with events (and k itself)
/// forward() returns [B, L, D * d]: the D queries side by side. An item is scored with the query
/// of its own domain. All encoders share the input embedding `emb` (items belong to one domain).
struct CrossDomainNet : SeqEncoder {
  using Factory = std::function<std::shared_ptr<SeqEncoder>()>;
  /// item_domain [n_items] long in [0, D) (row 0 = padding, any value).
  CrossDomainNet(const SideInfo& side, int64_t d, int64_t n_domains, const torch::Tensor& item_domain,
                 const Factory& make_encoder, std::string fusion, int64_t fusion_hidden, double dropout);
  torch::Tensor forward(const Features& f, torch::Tensor* attn = nullptr) override;
  /// Per-domain newest states [B, L, D, d] and whether the domain had an event yet [B, L, D].
  torch::Tensor domain_states(const Features& f, torch::Tensor* available);
  /// Fusion weights of the attention variant [B, L, D (target), D (source)] from the last forward
  /// (undefined for concat).
  torch::Tensor last_weights;
  int64_t d_, D_;
  std::string fusion_;
  std::vector<std::shared_ptr<SeqEncoder>> encoders;
  torch::Tensor item_domain;  // buffer [n_items]
  torch::Tensor empty;        // [D, d]
  torch::nn::Linear mlp1{nullptr}, mlp2{nullptr};
  torch::Tensor queries;  // [D, d]
  torch::nn::Linear key{nullptr}, value{nullptr};
  torch::nn::Dropout drop{nullptr};
};

/// Causal mask pieces shared by the attention encoders: blocked[b, 0, i, j] = key j is in the
/// future of i or padding (a query always sees itself).
torch::Tensor blocked_keys(const torch::Tensor& items);

}  // namespace driftrec::nn
