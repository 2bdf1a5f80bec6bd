#include "seqnets.h"

namespace driftrec::nn {

torch::Tensor SeqEncoder::encode(const Features& f, torch::Tensor* attn) {
  auto h = forward(f, attn);
  if (query_width > 0) {
    auto sizes = h.sizes().vec();
    auto q = h.reshape({-1, query_width});  // one row per query (crossdomain: D per position)
    q = torch::cat({q.narrow(1, 0, query_width - 1), torch::ones({q.size(0), 1}, q.options())}, 1);
    h = q.reshape(sizes);
  }
  if (category && category->history_prior()) h = torch::cat({h, category->history_mix(f.items)}, -1);
  return h;
}

// ---------------------------------------------------------------- input embedding

InputEmbeddingImpl::InputEmbeddingImpl(const SideInfo& side, int64_t d) : d_(d) {
  items = register_module("items", torch::nn::Embedding(torch::nn::EmbeddingOptions(side.n_items, d).padding_idx(0)));
  torch::nn::init::normal_(items->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
  if (side.n_behaviors > 0)
    behaviors = register_module(
        "behaviors", torch::nn::Embedding(torch::nn::EmbeddingOptions(side.n_behaviors + 1, d).padding_idx(0)));
  if (side.gaps)
    gaps = register_module("gaps", torch::nn::Embedding(torch::nn::EmbeddingOptions(kGapBuckets, d).padding_idx(0)));
  if (side.next_gaps) {  // starts at zero: the model begins as the one without it
    next_gaps = register_module("next_gaps",
                                torch::nn::Embedding(torch::nn::EmbeddingOptions(kNextGapBuckets, d).padding_idx(0)));
    torch::NoGradGuard g;
    next_gaps->weight.zero_();
  }
  if (side.attributes.defined()) {
    attributes = register_module(
        "attributes", torch::nn::Embedding(torch::nn::EmbeddingOptions(side.n_attributes + 1, d).padding_idx(0)));
    torch::nn::init::normal_(attributes->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
    attr_table = register_buffer("attr_table", side.attributes.clone());
  }
  if (side.content()) {
    id_dropout_ = side.id_dropout;
    known = register_buffer("known", side.known.defined() ? side.known.clone() : torch::ones({side.n_items}));
  }
  if (side.tokens.defined()) {
    text_pool_ = side.text_pool;
    const auto p = side.token_dim > 0 ? side.token_dim : d;
    token_table = register_buffer("token_table", side.tokens.clone());
    tokens =
        register_module("tokens", torch::nn::Embedding(torch::nn::EmbeddingOptions(side.n_tokens, p).padding_idx(0)));
    torch::nn::init::normal_(tokens->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(p)));
    if (side.word_vectors.defined()) {
      torch::NoGradGuard g;
      tokens->weight.copy_(side.word_vectors);
    }
    if (text_pool_ == "cnn") {
      conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(p, d, 3).padding(1)));
    } else {
      att_hidden = register_module("att_hidden", torch::nn::Linear(p, p));
      att_score = register_module("att_score", torch::nn::Linear(p, 1));
      text_out = register_module("text_out", torch::nn::Linear(p, d));
    }
  }
  if (side.item_features.defined()) {
    feature_table = register_buffer("feature_table", side.item_features.clone());
    features_out = register_module("features_out", torch::nn::Linear(side.item_features.size(1), d));
  }
  torch::NoGradGuard g;
  items->weight[0].zero_();
  if (tokens) tokens->weight[0].zero_();
  if (attributes) attributes->weight[0].zero_();
  if (behaviors) behaviors->weight[0].zero_();
  if (gaps) gaps->weight[0].zero_();
}

torch::Tensor InputEmbeddingImpl::content_vectors(const torch::Tensor& ids) {
  const auto N = ids.size(0);
  auto out = torch::zeros({N, d_}, items->weight.options());
  if (tokens) {
    auto tok = token_table.index_select(0, ids);  // [N, T]
    auto mask = tok.ne(0);                        // [N, T]
    auto e = tokens(tok);                         // [N, T, p]
    if (conv) {
      auto h = torch::relu(conv(e.transpose(1, 2)));  // [N, d, T]
      auto any = mask.any(1, true);                   // items without tokens get 0
      auto pooled = std::get<0>(h.masked_fill(mask.logical_not().unsqueeze(1), -1e9).max(2));
      out = out + pooled * any.to(pooled.scalar_type());
    } else {
      auto s = att_score(torch::tanh(att_hidden(e))).squeeze(-1);  // [N, T]
      s = s.masked_fill(mask.logical_not(), -1e9);
      auto w = torch::softmax(s, 1) * mask.to(s.scalar_type());  // rows without tokens: 0
      out = out + text_out((w.unsqueeze(-1) * e).sum(1)) * mask.any(1, true).to(s.scalar_type());
    }
  }
  if (features_out) out = out + features_out(feature_table.index_select(0, ids));
  return out;
}

torch::Tensor InputEmbeddingImpl::item_vectors(const torch::Tensor& ids) {
  auto v =
      sparse_item_grad ? torch::embedding(items->weight, ids, /*padding_idx=*/0, false, /*sparse=*/true) : items(ids);
  if (known.defined()) {
    auto flat = ids.reshape({-1});
    auto keep = known.index_select(0, flat);
    if (is_training() && id_dropout_ > 0) keep = keep * torch::bernoulli(torch::full_like(keep, 1.0 - id_dropout_));
    v = v * keep.view(ids.sizes()).unsqueeze(-1);
    v = v + content_vectors(flat).view(v.sizes());
  }
  if (attributes) {
    auto a = attr_table.index_select(0, ids.reshape({-1}));         // [N, A]
    auto n = a.ne(0).sum(-1, true).clamp_min(1).to(torch::kFloat);  // [N, 1]
    auto e = sparse_attribute_grad ? torch::embedding(attributes->weight, a, /*padding_idx=*/0, false, /*sparse=*/true)
                                   : attributes(a);  // [N, A, d]
    auto mean = e.sum(1) / n;                        // [N, d]
    v = v + mean.view(v.sizes());
  }
  return v;
}

torch::Tensor InputEmbeddingImpl::all_items() {
  return item_vectors(
      torch::arange(items->weight.size(0), torch::TensorOptions().dtype(torch::kLong).device(items->weight.device())));
}

torch::Tensor InputEmbeddingImpl::forward(const Features& f) {
  auto x = item_vectors(f.items);
  if (behaviors && f.behaviors.defined()) x = x + behaviors(f.behaviors);
  if (gaps && f.gaps.defined()) x = x + gaps(f.gaps);
  if (next_gaps && f.next_gaps.defined()) x = x + next_gaps(f.next_gaps);
  return x * f.items.ne(0).unsqueeze(-1);
}

// ---------------------------------------------------------------- repeat head

RepeatHeadImpl::RepeatHeadImpl(int64_t d, int64_t n_behaviors) {
  gate = register_module("gate", torch::nn::Linear(d, 1));
  table = register_parameter("table", torch::zeros({n_behaviors + 1, kRecencyBuckets}));
  torch::NoGradGuard g;
  gate->weight.zero_();
  gate->bias.fill_(0.5413f);  // softplus = 1
}

torch::Tensor RepeatHeadImpl::weights(const torch::Tensor& h, const torch::Tensor& items,
                                      const torch::Tensor& behaviors) {
  const auto L = items.size(1);  // items: [B, L]
  std::vector<int64_t> bucket(static_cast<std::size_t>(L * L), 0);
  for (int64_t t = 0; t < L; ++t)
    for (int64_t p = 0; p <= t; ++p) bucket[static_cast<std::size_t>(t * L + p)] = recency_bucket(t - p);
  auto buckets = torch::tensor(bucket, torch::kLong).view({1, L, L});
  auto beh = behaviors.clamp(0, table.size(0) - 1).unsqueeze(1);  // [B, 1, L]
  // An embedding lookup (deterministic backward on CPU, unlike advanced indexing's accumulation).
  auto flat = beh * kRecencyBuckets + buckets;  // [B, L, L]
  auto w = torch::nn::functional::embedding(flat, table.view({-1, 1})).squeeze(-1) * kRepeatScale;
  auto causal = torch::ones({L, L}, h.options()).tril().unsqueeze(0);  // p <= t
  auto real = items.ne(0).to(h.scalar_type()).unsqueeze(1);            // [B, 1, L]
  auto g = torch::nn::functional::softplus(gate(h));                   // [B, L, 1]
  return g * w * causal * real;
}

torch::Tensor blocked_keys(const torch::Tensor& items) {
  const auto L = items.size(1);
  auto opts = torch::TensorOptions().dtype(torch::kBool).device(items.device());
  auto causal = torch::ones({L, L}, opts).triu(1);
  auto pad_key = items.eq(0).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, L]
  auto eye = torch::eye(L, opts);
  return (causal.unsqueeze(0).unsqueeze(0) | pad_key) & eye.logical_not();  // [B, 1, L, L]
}

// ---------------------------------------------------------------- sasrec

SasRecNet::SasRecNet(const SideInfo& side, int64_t max_len, int64_t layers, BlockOptions block)
    : d_(block.d), post_norm_(block.post_norm) {
  const auto d = block.d;
  block.window = max_len;
  emb = register_module("emb", InputEmbedding(side, d));
  positions = register_module("positions", torch::nn::Embedding(max_len, d));
  for (int64_t l = 0; l < layers; ++l) blocks.push_back(register_module("block" + std::to_string(l), Block(block)));
  ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  drop = register_module("drop", torch::nn::Dropout(block.dropout));
}

torch::Tensor SasRecNet::forward(const Features& f, torch::Tensor* attn) {
  const auto L = f.items.size(1);
  const auto valid = f.items.ne(0);
  auto pos = torch::arange(L, f.items.options()).unsqueeze(0);  // newest item at L-1
  auto x = emb->forward(f) * std::sqrt(static_cast<double>(d_)) + positions(pos + (positions->weight.size(0) - L));
  if (post_norm_) x = ln(x);
  x = drop(x) * valid.unsqueeze(-1);
  auto blocked = blocked_keys(f.items);
  auto mask = torch::zeros(blocked.sizes(), x.options()).masked_fill(blocked, -INFINITY);
  for (std::size_t l = 0; l < blocks.size(); ++l)
    x = blocks[l]->forward(x, mask, (attn && l + 1 == blocks.size()) ? attn : nullptr, valid);
  return post_norm_ ? x : ln(x);
}

// ---------------------------------------------------------------- gru4rec

Gru4RecNet::Gru4RecNet(const SideInfo& side, int64_t d, int64_t hidden, int64_t layers, bool lstm_cell, double dropout)
    : lstm_(lstm_cell) {
  emb = register_module("emb", InputEmbedding(side, d));
  if (lstm_)
    lstm = register_module("lstm",
                           torch::nn::LSTM(torch::nn::LSTMOptions(d, hidden).num_layers(layers).batch_first(true)));
  else
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(d, hidden).num_layers(layers).batch_first(true)));
  if (hidden != d) proj = register_module("proj", torch::nn::Linear(hidden, d));
  drop = register_module("drop", torch::nn::Dropout(dropout));
}

namespace {
// Column index gather for a per-row shift of the time axis, zeroing what falls outside.
torch::Tensor shift_rows(const torch::Tensor& x, const torch::Tensor& shift) {
  const auto B = x.size(0), L = x.size(1);
  auto src = torch::arange(L, shift.options()).unsqueeze(0) + shift.unsqueeze(1);  // [B, L]
  auto inside = src.ge(0) & src.lt(L);
  auto idx = src.clamp(0, L - 1);
  auto view_idx = idx;
  std::vector<int64_t> shape = {B, L};
  for (int64_t k = 2; k < x.dim(); ++k) {
    view_idx = view_idx.unsqueeze(-1);
    shape.push_back(x.size(k));
  }
  auto out = x.gather(1, view_idx.expand(shape));
  auto m = inside;
  for (int64_t k = 2; k < x.dim(); ++k) m = m.unsqueeze(-1);
  return out * m.to(x.dtype());
}
}  // namespace

torch::Tensor to_right_padding(const torch::Tensor& x, const torch::Tensor& pad) { return shift_rows(x, pad); }
torch::Tensor to_left_padding(const torch::Tensor& x, const torch::Tensor& pad) { return shift_rows(x, -pad); }

torch::Tensor Gru4RecNet::forward(const Features& f, torch::Tensor* attn) {
  (void)attn;
  auto pad = f.items.eq(0).sum(1);  // left padding per row
  auto x = to_right_padding(drop(emb->forward(f)), pad);
  // Right padding comes after every real event, so a recurrent pass never feeds it into one.
  auto h = lstm_ ? std::get<0>(lstm->forward(x)) : std::get<0>(gru->forward(x));
  h = drop(h);
  if (proj) h = proj(h);
  return to_left_padding(h, pad);
}

// ---------------------------------------------------------------- caser

CaserNet::CaserNet(const SideInfo& side, int64_t d, int64_t window, int64_t h_filters, int64_t v_filters,
                   double dropout)
    : d_(d), window_(window) {
  emb = register_module("emb", InputEmbedding(side, d));
  for (int64_t h = 1; h <= window; ++h)
    horizontal.push_back(register_module("h" + std::to_string(h), torch::nn::Linear(h * d, h_filters)));
  vertical = register_parameter("vertical", torch::randn({v_filters, window}) / std::sqrt(static_cast<double>(window)));
  fc = register_module("fc", torch::nn::Linear(v_filters * d + window * h_filters, d));
  out = register_module("out", torch::nn::Linear(d, d));
  drop = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor CaserNet::windows(const torch::Tensor& x) const {
  const auto B = x.size(0), d = x.size(2);
  auto padded = torch::cat({torch::zeros({B, window_ - 1, d}, x.options()), x}, 1);  // [B, L+W-1, d]
  return padded.unfold(1, window_, 1).transpose(2, 3);                               // [B, L, W, d]
}

torch::Tensor CaserNet::forward(const Features& f, torch::Tensor* attn) {
  (void)attn;
  const auto B = f.items.size(0), L = f.items.size(1);
  auto w = windows(emb->forward(f));  // [B, L, W, d]
  auto v = torch::einsum("blwd,vw->blvd", {w, vertical}).reshape({B, L, -1});
  std::vector<torch::Tensor> parts = {v};
  for (int64_t h = 1; h <= window_; ++h) {
    // Sub-windows of h consecutive rows, flattened row-major [h, d].
    auto sub = w.unfold(2, h, 1).transpose(3, 4).reshape({B, L, window_ - h + 1, h * d_});
    parts.push_back(std::get<0>(torch::relu(horizontal[static_cast<std::size_t>(h - 1)](sub)).max(2)));
  }
  auto z = torch::relu(fc(drop(torch::cat(parts, -1))));
  return out(drop(z)) * f.items.ne(0).unsqueeze(-1);
}

// ---------------------------------------------------------------- hstu

HstuLayerImpl::HstuLayerImpl(int64_t d, int64_t heads, int64_t max_len, bool with_time, double dropout)
    : heads_(heads), norm_(max_len) {
  ln_in = register_module("ln_in", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  uvqk = register_module("uvqk", torch::nn::Linear(d, 4 * d));
  ln_attn = register_module("ln_attn", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  out = register_module("out", torch::nn::Linear(d, d));
  pos_bias = register_parameter("pos_bias", torch::zeros({heads, max_len}));
  if (with_time) time_bias = register_parameter("time_bias", torch::zeros({heads, kTimeBuckets}));
  drop = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor HstuLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& keep, const torch::Tensor& rel_pos,
                                     const torch::Tensor& time_bucket, torch::Tensor* attn_out) {
  const auto B = x.size(0), L = x.size(1), d = x.size(2), dh = d / heads_;
  auto parts = torch::silu(uvqk(ln_in(x))).chunk(4, -1);  // u, v, q, k: [B, L, d]
  auto split = [&](const torch::Tensor& t) { return t.reshape({B, L, heads_, dh}).transpose(1, 2); };  // [B, H, L, dh]
  auto q = split(parts[2]), k = split(parts[3]), v = split(parts[1]);
  auto s = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));  // [B, H, L, L]
  s = s + pos_bias.index_select(1, rel_pos.reshape({-1})).view({1, heads_, L, L});
  if (time_bias.defined() && time_bucket.defined())
    s = s + time_bias.index_select(1, time_bucket.reshape({-1})).view({heads_, B, L, L}).transpose(0, 1);
  auto a = torch::silu(s) * keep / static_cast<double>(norm_);
  if (attn_out) *attn_out = a.mean(1);
  auto ctx = torch::matmul(drop(a), v).transpose(1, 2).reshape({B, L, d});
  return x + drop(out(ln_attn(ctx) * parts[0]));
}

HstuNet::HstuNet(const SideInfo& side, int64_t d, int64_t max_len, int64_t n_layers, int64_t heads, bool time_bias,
                 double dropout)
    : time_bias_(time_bias), max_len_(max_len) {
  emb = register_module("emb", InputEmbedding(side, d));
  for (int64_t l = 0; l < n_layers; ++l)
    layers.push_back(register_module("layer" + std::to_string(l), HstuLayer(d, heads, max_len, time_bias, dropout)));
  ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  drop = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor HstuNet::forward(const Features& f, torch::Tensor* attn) {
  const auto L = f.items.size(1);
  const auto valid = f.items.ne(0);
  auto x = drop(emb->forward(f) * std::sqrt(static_cast<double>(emb->d_))) * valid.unsqueeze(-1);
  auto keep = blocked_keys(f.items).logical_not().to(x.dtype());  // [B, 1, L, L]
  auto idx = torch::arange(L, f.items.options());
  auto rel_pos = (idx.unsqueeze(1) - idx.unsqueeze(0)).clamp(0, max_len_ - 1);  // i - j (future keys are masked)
  torch::Tensor tb;
  if (time_bias_ && f.times.defined()) {
    auto dt = (f.times.unsqueeze(2) - f.times.unsqueeze(1)).clamp_min(0).to(torch::kDouble);
    tb = torch::floor(torch::log2(dt + 1.0)).to(torch::kLong).clamp_max(kTimeBuckets - 1);
  }
  for (std::size_t l = 0; l < layers.size(); ++l)
    x = layers[l]->forward(x, keep, rel_pos, tb, (attn && l + 1 == layers.size()) ? attn : nullptr);
  return ln(x);
}

// ---------------------------------------------------------------- cross-domain

CrossDomainNet::CrossDomainNet(const SideInfo& side, int64_t d, int64_t n_domains, const torch::Tensor& item_domain_,
                               const Factory& make_encoder, std::string fusion, int64_t fusion_hidden, double dropout)
    : d_(d), D_(n_domains), fusion_(std::move(fusion)) {
  emb = register_module("emb", InputEmbedding(side, d));
  for (int64_t k = 0; k < D_; ++k) {
    auto e = make_encoder();
    e->replace_module("emb", emb);  // one shared item table (the optimizer sees each tensor once)
    e->emb = emb;
    encoders.push_back(register_module("enc" + std::to_string(k), e));
  }
  item_domain = register_buffer("item_domain", item_domain_.clone());
  empty = register_parameter("empty", torch::randn({D_, d}) * (1.0 / std::sqrt(static_cast<double>(d))));
  if (fusion_ == "concat") {
    mlp1 = register_module("mlp1", torch::nn::Linear(D_ * d, fusion_hidden));
    mlp2 = register_module("mlp2", torch::nn::Linear(fusion_hidden, D_ * d));
  } else {
    queries = register_parameter("queries", torch::randn({D_, d}) * (1.0 / std::sqrt(static_cast<double>(d))));
    key = register_module("key", torch::nn::Linear(d, d));
    value = register_module("value", torch::nn::Linear(d, d));
  }
  drop = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor CrossDomainNet::domain_states(const Features& f, torch::Tensor* available) {
  const auto B = f.items.size(0), L = f.items.size(1);
  auto dom = item_domain.index_select(0, f.items.reshape({-1})).view({B, L}).masked_fill(f.items.eq(0), D_);
  std::vector<torch::Tensor> states, has;
  for (int64_t k = 0; k < D_; ++k) {
    auto is_k = dom.eq(k);
    auto cnt = is_k.to(torch::kLong).cumsum(1);  // k-events up to each position
    auto total = cnt.select(1, L - 1).unsqueeze(1);
    const auto Lk = total.max().item<int64_t>();
    auto has_k = cnt.gt(0);
    if (Lk == 0) {
      states.push_back(empty[k].view({1, 1, d_}).expand({B, L, d_}));
      has.push_back(has_k);
      continue;
    }
    // Column of each k-event in the compacted, left-padded [B, Lk] batch; other positions go to a
    // spare column Lk that is cut off.
    auto col = (Lk - total + cnt - 1).masked_fill(is_k.logical_not(), Lk);
    auto compact = [&](const torch::Tensor& x) {
      if (!x.defined()) return torch::Tensor();
      return torch::zeros({B, Lk + 1}, x.options()).scatter(1, col, x).narrow(1, 0, Lk);
    };
    Features fk{compact(f.items), compact(f.behaviors), compact(f.gaps), compact(f.times), torch::Tensor()};
    auto hk = encoders[static_cast<std::size_t>(k)]->forward(fk);  // [B, Lk, d]
    auto idx = (Lk - total + cnt - 1).clamp_min(0).unsqueeze(-1).expand({B, L, d_});
    auto s = hk.gather(1, idx);
    states.push_back(torch::where(has_k.unsqueeze(-1), s, empty[k].view({1, 1, d_}).expand({B, L, d_})));
    has.push_back(has_k);
  }
  if (available) *available = torch::stack(has, 2);
  return torch::stack(states, 2);  // [B, L, D, d]
}

torch::Tensor CrossDomainNet::forward(const Features& f, torch::Tensor* attn) {
  (void)attn;
  const auto B = f.items.size(0), L = f.items.size(1);
  torch::Tensor available;
  auto s = domain_states(f, &available);  // [B, L, D, d]
  torch::Tensor q;
  if (fusion_ == "concat") {
    auto z = mlp2(drop(torch::relu(mlp1(s.reshape({B, L, D_ * d_})))));
    q = s + z.view({B, L, D_, d_});
    last_weights = torch::Tensor();
  } else {
    auto keys = key(s);                                                                                  // [B, L, D, d]
    auto logits = torch::einsum("kd,bljd->blkj", {queries, keys}) / std::sqrt(static_cast<double>(d_));  // [B, L, D, D]
    auto self = torch::eye(D_, available.options()).view({1, 1, D_, D_});
    auto allowed = available.unsqueeze(2).expand({B, L, D_, D_}).logical_or(self);
    auto w = torch::softmax(logits.masked_fill(allowed.logical_not(), -INFINITY), -1);
    last_weights = w.detach();
    q = s + torch::matmul(w, value(s));  // [B, L, D, d]
  }
  return q.reshape({B, L, D_ * d_});
}

}  // namespace driftrec::nn
