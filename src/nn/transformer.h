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
struct BlockImpl : torch::nn::Module {
  BlockImpl(int64_t d, int64_t heads, int64_t ffn, double dropout, double filter_mix = 0.0, int64_t window = 0,
            int64_t bins = 0, bool post_norm = false)
      : heads_(heads), filter_mix_(filter_mix), post_norm_(post_norm) {
    ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
    out = register_module("out", torch::nn::Linear(d, d));
    ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    ff1 = register_module("ff1", torch::nn::Linear(d, ffn));
    ff2 = register_module("ff2", torch::nn::Linear(ffn, d));
    drop = register_module("drop", torch::nn::Dropout(dropout));
    if (filter_mix_ > 0) filter = register_module("filter", SpectralFilter(d, window, bins));
    if (filter && post_norm_) lnf = register_module("lnf", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
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
      return ln2(y + drop(ff2(torch::gelu(ff1(y)))));
    }
    if (filter) update = (1.0 - filter_mix_) * update + filter_mix_ * filtered;
    auto y = x + update;
    return y + drop(ff2(drop(torch::gelu(ff1(ln2(y))))));
  }
  int64_t heads_;
  double filter_mix_;
  bool post_norm_;
  SpectralFilter filter{nullptr};
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr}, lnf{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr}, ff1{nullptr}, ff2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

}  // namespace driftrec::nn
