#pragma once
// Transformer building blocks of the sequential models (internal to the nn layer; the tests
// include it to check causality and the attention against a reference computation).
#include <cmath>
#include <string>
#include <vector>

#include "pch.h"
#include "spectral_filter.h"

namespace driftrec::nn {

// One pre-LN transformer block with explicit causal attention. With filter_mix > 0 the block's
// residual update is (1 - filter_mix) x attention + filter_mix x a causal spectral filter of the same
// normalised input (spectral_filter.h; BSARec's alpha), the filter over `window` events keeping `bins`
// low-frequency bins.
struct BlockImpl : torch::nn::Module {
  BlockImpl(int64_t d, int64_t heads, int64_t ffn, double dropout, double filter_mix = 0.0, int64_t window = 0,
            int64_t bins = 0)
      : heads_(heads), filter_mix_(filter_mix) {
    ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
    out = register_module("out", torch::nn::Linear(d, d));
    ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    ff1 = register_module("ff1", torch::nn::Linear(d, ffn));
    ff2 = register_module("ff2", torch::nn::Linear(ffn, d));
    drop = register_module("drop", torch::nn::Dropout(dropout));
    if (filter_mix_ > 0) filter = register_module("filter", SpectralFilter(d, window, bins));
  }
  /// x [B, L, d]; mask [L, L] or [B, 1, L, L] additive (0 / -inf). attn_out: mean over heads [B, L, L].
  /// valid [B, L] bool (false = padding): needed by the filter; undefined = every position is real.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, torch::Tensor* attn_out,
                        const torch::Tensor& valid = {}) {
    const auto B = x.size(0), L = x.size(1), d = x.size(2), dh = d / heads_;
    auto h = ln1(x);
    auto q = qkv(h).view({B, L, 3, heads_, dh}).permute({2, 0, 3, 1, 4});  // [3, B, H, L, dh]
    auto s = torch::matmul(q[0], q[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(dh)) + mask;
    auto a = torch::softmax(s, -1);
    if (attn_out) *attn_out = a.mean(1);
    auto ctx = torch::matmul(drop(a), q[2]).permute({0, 2, 1, 3}).reshape({B, L, d});
    auto update = drop(out(ctx));
    if (filter) {
      auto keep = valid.defined() ? valid : torch::ones({B, L}, x.options().dtype(torch::kBool));
      update = (1.0 - filter_mix_) * update + filter_mix_ * drop(filter(h, keep));
    }
    auto y = x + update;
    return y + drop(ff2(drop(torch::gelu(ff1(ln2(y))))));
  }
  int64_t heads_;
  double filter_mix_;
  SpectralFilter filter{nullptr};
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr}, ff1{nullptr}, ff2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

}  // namespace driftrec::nn
