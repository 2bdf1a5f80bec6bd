#pragma once
// Transformer building blocks of the sequential models (internal to the nn layer; the tests
// include it to check causality and the attention against a reference computation).
#include <cmath>
#include <string>
#include <vector>

#include "pch.h"
#include "spectral_filter.h"

namespace driftrec::nn {

// One transformer block with explicit causal attention. With filter_mix > 0 the block's update is
// (1 - filter_mix) x attention + filter_mix x a causal spectral filter of the same input
// (spectral_filter.h; BSARec's alpha), the filter over `window` events keeping `bins` low-frequency
// bins.
//   pre-LN (default):  y = x + mix(attn(ln1 x), filter(ln1 x));  out = y + ffn(ln2 y), dropout after
//                      the GELU and after the projection (SASRec's feed-forward).
//   post-LN (BERT's and BSARec's layout): each branch closes its own residual under its own norm,
//                      y = (1 - a) ln1(x + attn x) + a lnf(x + filter x);  out = ln2(y + ffn y), one
//                      dropout, on the projection.
// The feed-forward is GELU(W1 h) (BERT's, SASRec's) or, with swiglu, SiLU(W1 h) * (V h) (Shazeer
// 2020's gated unit, as in eSASRec's LiGR blocks): ffn hidden units either way, W1 and V one
// [d, 2 ffn] layer.
struct BlockOptions {
  int64_t d = 64, heads = 1, ffn = 64;
  double dropout = 0.0;
  double filter_mix = 0.0;  ///< > 0: mix in the causal spectral filter over `window` events, `bins` bins
  int64_t window = 0, bins = 3;
  bool post_norm = false;
  bool swiglu = false;
};

struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(const BlockOptions& o)
      : heads_(o.heads), filter_mix_(o.filter_mix), post_norm_(o.post_norm), swiglu_(o.swiglu) {
    const auto d = o.d;
    ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
    out = register_module("out", torch::nn::Linear(d, d));
    ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    ff1 = register_module("ff1", torch::nn::Linear(d, swiglu_ ? 2 * o.ffn : o.ffn));
    ff2 = register_module("ff2", torch::nn::Linear(o.ffn, d));
    drop = register_module("drop", torch::nn::Dropout(o.dropout));
    if (filter_mix_ > 0) filter = register_module("filter", SpectralFilter(d, o.window, o.bins));
    if (filter && post_norm_) lnf = register_module("lnf", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  }
  /// The feed-forward's hidden activation for input h [..., d]: [..., ffn].
  torch::Tensor hidden(const torch::Tensor& h) {
    if (!swiglu_) return torch::gelu(ff1(h));
    auto gate_value = ff1(h).chunk(2, -1);  // [..., ffn] each
    return torch::silu(gate_value[0]) * gate_value[1];
  }
  /// x [B, L, d]; mask [L, L] or [B, 1, L, L] additive (0 / -inf). attn_out: mean over heads [B, L, L].
  /// valid [B, L] bool (false = padding): needed by the filter; undefined = every position is real.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, torch::Tensor* attn_out,
                        const torch::Tensor& valid = {}) {
    const auto B = x.size(0), L = x.size(1), d = x.size(2), dh = d / heads_;
    auto h = post_norm_ ? x : ln1(x);
    auto q = qkv(h).view({B, L, 3, heads_, dh}).permute({2, 0, 3, 1, 4});  // [3, B, H, L, dh]
    auto s = torch::matmul(q[0], q[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(dh)) + mask;
    auto a = torch::softmax(s, -1);
    if (attn_out) *attn_out = a.mean(1);
    auto ctx = torch::matmul(drop(a), q[2]).permute({0, 2, 1, 3}).reshape({B, L, d});
    auto update = drop(out(ctx));
    torch::Tensor filtered;
    if (filter) {
      auto keep = valid.defined() ? valid : torch::ones({B, L}, x.options().dtype(torch::kBool));
      filtered = drop(filter(h, keep));
    }
    if (post_norm_) {
      auto y = ln1(x + update);
      if (filter) y = (1.0 - filter_mix_) * y + filter_mix_ * lnf(x + filtered);
      return ln2(y + drop(ff2(hidden(y))));
    }
    if (filter) update = (1.0 - filter_mix_) * update + filter_mix_ * filtered;
    auto y = x + update;
    return y + drop(ff2(drop(hidden(ln2(y)))));
  }
  int64_t heads_;
  double filter_mix_;
  bool post_norm_, swiglu_;
  SpectralFilter filter{nullptr};
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr}, lnf{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr}, ff1{nullptr}, ff2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

}  // namespace driftrec::nn
