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

struct NetImpl : torch::nn::Module {
  NetImpl(int64_t n_items, int64_t d, int64_t max_len, int64_t layers, int64_t heads, int64_t ffn, double dropout)
      : d_(d) {
    items = register_module("items", torch::nn::Embedding(torch::nn::EmbeddingOptions(n_items, d).padding_idx(0)));
    positions = register_module("positions", torch::nn::Embedding(max_len, d));
    for (int64_t l = 0; l < layers; ++l) blocks.push_back(register_module("block" + std::to_string(l), Block(d, heads, ffn, dropout)));
    ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    drop = register_module("drop", torch::nn::Dropout(dropout));
    torch::nn::init::normal_(items->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
    torch::NoGradGuard g;
    items->weight[0].zero_();
  }
  /// seq [B, L] item ids, left-padded with 0 -> hidden [B, L, d]. attn: last layer's attention.
  torch::Tensor forward(const torch::Tensor& seq, torch::Tensor* attn = nullptr) {
    const auto L = seq.size(1);
    const auto valid = seq.ne(0);                                              // [B, L]
    auto pos = torch::arange(L, seq.options()).unsqueeze(0);                   // newest item at L-1
    auto x = items(seq) * std::sqrt(static_cast<double>(d_)) + positions(pos + (positions->weight.size(0) - L));
    x = drop(x) * valid.unsqueeze(-1);
    // Additive mask: future keys and padding keys are -inf; a query always sees itself, so
    // padded rows stay finite (they are never used).
    auto causal = torch::ones({L, L}, torch::kBool).triu(1);
    auto pad_key = valid.logical_not().unsqueeze(1).unsqueeze(1);             // [B, 1, 1, L]
    auto eye = torch::eye(L, torch::kBool);
    auto blocked = (causal.unsqueeze(0).unsqueeze(0) | pad_key) & eye.logical_not();
    auto mask = torch::zeros(blocked.sizes(), torch::kFloat).masked_fill(blocked, -INFINITY);
    for (std::size_t l = 0; l < blocks.size(); ++l)
      x = blocks[l]->forward(x, mask, (attn && l + 1 == blocks.size()) ? attn : nullptr);
    return ln(x);
  }
  int64_t d_;
  torch::nn::Embedding items{nullptr}, positions{nullptr};
  std::vector<Block> blocks;
  torch::nn::LayerNorm ln{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Net);

}  // namespace driftrec::nn
