#pragma once
// Transformer building blocks of the sequential models (internal to the nn layer; the tests
// include it to check causality and the attention against a reference computation).
#include <cmath>
#include <string>
#include <vector>

#include "pch.h"

namespace driftrec::nn {

// One pre-LN transformer block with explicit causal attention.
struct BlockImpl : torch::nn::Module {
  BlockImpl(int64_t d, int64_t heads, int64_t ffn, double dropout) : heads_(heads) {
    ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
    out = register_module("out", torch::nn::Linear(d, d));
    ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    ff1 = register_module("ff1", torch::nn::Linear(d, ffn));
    ff2 = register_module("ff2", torch::nn::Linear(ffn, d));
    drop = register_module("drop", torch::nn::Dropout(dropout));
  }
  /// x [B, L, d]; mask [L, L] or [B, 1, L, L] additive (0 / -inf). attn_out: mean over heads [B, L, L].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, torch::Tensor* attn_out) {
    const auto B = x.size(0), L = x.size(1), d = x.size(2), dh = d / heads_;
    auto h = ln1(x);
    auto q = qkv(h).view({B, L, 3, heads_, dh}).permute({2, 0, 3, 1, 4});  // [3, B, H, L, dh]
    auto s = torch::matmul(q[0], q[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(dh)) + mask;
    auto a = torch::softmax(s, -1);
    if (attn_out) *attn_out = a.mean(1);
    auto ctx = torch::matmul(drop(a), q[2]).permute({0, 2, 1, 3}).reshape({B, L, d});
    auto y = x + drop(out(ctx));
    return y + drop(ff2(drop(torch::gelu(ff1(ln2(y))))));
  }
  int64_t heads_;
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr}, ff1{nullptr}, ff2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

}  // namespace driftrec::nn
