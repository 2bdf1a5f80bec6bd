// The gru4rec, caser and hstu encoders and the side-information input layer, each against a plain
// reference computation; causality and padding invariance for every encoder.
#include "../../src/nn/seqnets.h"

#include <gtest/gtest.h>

#include <memory>

using namespace driftrec;

namespace {

nn::SideInfo items_side(int64_t n) {
  nn::SideInfo s;
  s.n_items = n;
  return s;
}

torch::Tensor ref_silu(const torch::Tensor& x) { return x * torch::sigmoid(x); }

// Every encoder: later items never change earlier outputs; extra left padding changes nothing.
void expect_causal_and_padding_invariant(nn::SeqEncoder& net) {
  net.eval();
  torch::NoGradGuard g;
  auto a = torch::tensor({{0, 0, 3, 7, 9, 11, 4}}, torch::kLong);
  auto b = a.clone();
  b[0][6] = 42;
  b[0][5] = 17;
  auto ha = net.forward(nn::items_only(a)), hb = net.forward(nn::items_only(b));
  EXPECT_TRUE(torch::allclose(ha[0].slice(0, 2, 5), hb[0].slice(0, 2, 5), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(ha[0][6], hb[0][6], 1e-3, 1e-3));
  auto c = torch::tensor({{0, 0, 0, 0, 3, 7, 9, 11, 4}}, torch::kLong);
  auto hc = net.forward(nn::items_only(c));
  EXPECT_TRUE(torch::allclose(ha[0].slice(0, 2, 7), hc[0].slice(0, 4, 9), 1e-5, 1e-5));
  // A batch of different lengths gives each row what it gets alone.
  auto batch = torch::tensor({{0, 0, 0, 0, 3, 7, 9}, {5, 6, 8, 3, 7, 9, 11}}, torch::kLong);
  auto hbatch = net.forward(nn::items_only(batch));
  auto alone = net.forward(nn::items_only(torch::tensor({{3, 7, 9}}, torch::kLong)));
  EXPECT_TRUE(torch::allclose(hbatch[0].slice(0, 4, 7), alone[0], 1e-5, 1e-5));
}

}  // namespace

TEST(SeqNets, EveryEncoderIsCausalAndIgnoresPadding) {
  torch::manual_seed(3);
  const auto side = items_side(50);
  nn::BlockOptions block;
  block.d = 16;
  block.heads = 2;
  block.ffn = 16;
  nn::SasRecNet sasrec(side, 10, 2, block);
  block.filter_mix = 0.7;
  nn::SasRecNet filtered(side, 10, 2, block);
  block.post_norm = true;
  nn::SasRecNet post(side, 10, 2, block);
  block.post_norm = false;
  block.swiglu = true;
  nn::SasRecNet gated(side, 10, 2, block);
  nn::Gru4RecNet gru(side, 16, 12, 2, false, 0.0);
  nn::Gru4RecNet lstm(side, 16, 16, 1, true, 0.0);
  nn::CaserNet caser(side, 16, 3, 4, 2, 0.0);
  nn::HstuNet hstu(side, 16, 10, 2, 2, false, 0.0);
  for (nn::SeqEncoder* net :
       std::initializer_list<nn::SeqEncoder*>{&sasrec, &filtered, &post, &gated, &gru, &lstm, &caser, &hstu}) {
    SCOPED_TRACE(net->name());
    expect_causal_and_padding_invariant(*net);
  }
}

TEST(SeqNets, GruMatchesTheGruEquations) {
  torch::manual_seed(4);
  nn::Gru4RecNet net(items_side(20), 6, 6, 1, false, 0.0);
  net.eval();
  torch::NoGradGuard g;
  auto seq = torch::tensor({{0, 0, 4, 9, 2, 13}}, torch::kLong);
  auto out = net.forward(nn::items_only(seq))[0];  // [6, 6]
  auto Wi = net.gru->named_parameters()["weight_ih_l0"], Wh = net.gru->named_parameters()["weight_hh_l0"];
  auto bi = net.gru->named_parameters()["bias_ih_l0"], bh = net.gru->named_parameters()["bias_hh_l0"];
  auto h = torch::zeros({6});
  for (int64_t t = 2; t < 6; ++t) {
    auto x = net.emb->items->weight[seq[0][t].item<int64_t>()];
    auto gi = torch::mv(Wi, x) + bi, gh = torch::mv(Wh, h) + bh;
    auto r = torch::sigmoid(gi.slice(0, 0, 6) + gh.slice(0, 0, 6));
    auto z = torch::sigmoid(gi.slice(0, 6, 12) + gh.slice(0, 6, 12));
    auto n = torch::tanh(gi.slice(0, 12, 18) + r * gh.slice(0, 12, 18));
    h = (1 - z) * n + z * h;
    EXPECT_TRUE(torch::allclose(out[t], h, 1e-5, 1e-6)) << "position " << t;
  }
  EXPECT_TRUE(torch::allclose(out.slice(0, 0, 2), torch::zeros({2, 6})));
}

TEST(SeqNets, PaddingShiftsRoundTrip) {
  auto x = torch::arange(1, 13, torch::kFloat).view({2, 3, 2});
  auto pad = torch::tensor({1, 0}, torch::kLong);
  auto right = nn::to_right_padding(x, pad);
  EXPECT_TRUE(torch::equal(right[0], torch::tensor({{3.f, 4.f}, {5.f, 6.f}, {0.f, 0.f}})));
  EXPECT_TRUE(torch::equal(right[1], x[1]));
  auto back = nn::to_left_padding(right, pad);
  EXPECT_TRUE(torch::equal(back[0], torch::tensor({{0.f, 0.f}, {3.f, 4.f}, {5.f, 6.f}})));
}

TEST(SeqNets, CaserMatchesExplicitConvolutions) {
  torch::manual_seed(5);
  const int64_t d = 4, W = 3;
  nn::CaserNet net(items_side(20), d, W, 2, 2, 0.0);
  net.eval();
  torch::NoGradGuard g;
  auto seq = torch::tensor({{0, 5, 9, 2, 13}}, torch::kLong);
  auto out = net.forward(nn::items_only(seq))[0];
  const auto& E = net.emb->items->weight;
  for (int64_t t = 1; t < 5; ++t) {
    // The window image: rows t-W+1..t, zeros before the sequence starts.
    auto img = torch::zeros({W, d});
    for (int64_t r = 0; r < W; ++r) {
      const auto pos = t - W + 1 + r;
      if (pos >= 0) img[r] = E[seq[0][pos].item<int64_t>()];
    }
    std::vector<torch::Tensor> parts;
    auto vert = torch::zeros({2, d});
    for (int64_t v = 0; v < 2; ++v)
      for (int64_t r = 0; r < W; ++r) vert[v] += net.vertical[v][r] * img[r];
    parts.push_back(vert.reshape({-1}));
    for (int64_t h = 1; h <= W; ++h) {
      auto& lin = net.horizontal[static_cast<std::size_t>(h - 1)];
      auto best = torch::full({2}, -1e30);
      for (int64_t s = 0; s + h <= W; ++s) {
        auto conv = torch::relu(torch::mv(lin->weight, img.slice(0, s, s + h).reshape({-1})) + lin->bias);
        best = torch::max(best, conv);
      }
      parts.push_back(best);
    }
    auto z = torch::relu(net.fc(torch::cat(parts).unsqueeze(0)));
    auto expect = net.out(z)[0];
    EXPECT_TRUE(torch::allclose(out[t], expect, 1e-5, 1e-6)) << "position " << t;
  }
  // Events older than the window do not matter.
  auto older = seq.clone();
  older[0][1] = 7;
  EXPECT_TRUE(torch::allclose(net.forward(nn::items_only(older))[0][4], out[4], 1e-6, 1e-6));
}

TEST(SeqNets, HstuLayerMatchesAReferenceLoop) {
  torch::manual_seed(6);
  const int64_t d = 8, H = 2, dh = 4, L = 4, max_len = 6;
  nn::HstuLayer layer(d, H, max_len, true, 0.0);
  layer->eval();
  torch::NoGradGuard g;
  layer->pos_bias.normal_();
  layer->time_bias.normal_();
  auto x = torch::randn({1, L, d});
  auto items = torch::tensor({{0, 3, 4, 5}}, torch::kLong);  // position 0 is padding
  auto times = torch::tensor({{0, 100, 160, 5000}}, torch::kLong);
  auto keep = nn::blocked_keys(items).logical_not().to(torch::kFloat);
  auto idx = torch::arange(L, torch::kLong);
  auto rel = (idx.unsqueeze(1) - idx.unsqueeze(0)).clamp(0, max_len - 1);
  auto dt = (times.unsqueeze(2) - times.unsqueeze(1)).clamp_min(0).to(torch::kDouble);
  auto tb = torch::floor(torch::log2(dt + 1.0)).to(torch::kLong).clamp_max(nn::kTimeBuckets - 1);
  torch::Tensor attn;
  auto y = layer->forward(x, keep, rel, tb, &attn)[0];
  auto uvqk = ref_silu(layer->uvqk(layer->ln_in(x[0])));  // [L, 4d]
  for (int64_t i = 1; i < L; ++i) {
    auto ctx = torch::zeros({d});
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t j = 1; j <= i; ++j) {  // causal keys, padding (j = 0) excluded
        auto q = uvqk[i].slice(0, 2 * d + h * dh, 2 * d + h * dh + dh);
        auto k = uvqk[j].slice(0, 3 * d + h * dh, 3 * d + h * dh + dh);
        const auto bucket = static_cast<int64_t>(std::floor(
            std::log2(1.0 + static_cast<double>(times[0][i].item<int64_t>() - times[0][j].item<int64_t>()))));
        auto s = (q * k).sum() / 2.0 + layer->pos_bias[h][i - j] + layer->time_bias[h][bucket];
        auto a = ref_silu(s) / static_cast<double>(max_len);
        ctx.slice(0, h * dh, h * dh + dh) += a * uvqk[j].slice(0, d + h * dh, d + h * dh + dh);
      }
    }
    auto expect = x[0][i] + layer->out(layer->ln_attn(ctx.unsqueeze(0))[0] * uvqk[i].slice(0, 0, d));
    EXPECT_TRUE(torch::allclose(y[i], expect, 1e-5, 1e-5)) << "position " << i;
  }
  EXPECT_EQ(attn[0][2][3].item<float>(), 0.0f);  // no weight on the future
}

TEST(SeqNets, InputEmbeddingAddsSideInformation) {
  torch::manual_seed(7);
  nn::SideInfo side;
  side.n_items = 5;
  side.n_behaviors = 3;
  side.gaps = true;
  side.n_attributes = 4;
  side.attributes = torch::tensor({{0, 0}, {1, 3}, {2, 0}, {0, 0}, {4, 1}}, torch::kLong);
  nn::InputEmbedding emb(side, 6);
  torch::NoGradGuard g;
  const auto& I = emb->items->weight;
  const auto& A = emb->attributes->weight;
  auto vecs = emb->all_items();
  EXPECT_TRUE(torch::allclose(vecs[1], I[1] + (A[1] + A[3]) / 2));
  EXPECT_TRUE(torch::allclose(vecs[2], I[2] + A[2]));
  EXPECT_TRUE(torch::allclose(vecs[3], I[3]));  // no attributes
  EXPECT_TRUE(torch::equal(vecs[0], torch::zeros({6})));
  nn::Features f;
  f.items = torch::tensor({{0, 1, 4}}, torch::kLong);
  f.behaviors = torch::tensor({{0, 1, 3}}, torch::kLong);
  f.gaps = torch::tensor({{0, 1, 7}}, torch::kLong);
  auto x = emb->forward(f)[0];
  EXPECT_TRUE(torch::equal(x[0], torch::zeros({6})));
  EXPECT_TRUE(torch::allclose(x[1], vecs[1] + emb->behaviors->weight[1] + emb->gaps->weight[1]));
  EXPECT_TRUE(torch::allclose(x[2], vecs[4] + emb->behaviors->weight[3] + emb->gaps->weight[7]));
}

TEST(SeqNets, GapBuckets) {
  EXPECT_EQ(nn::gap_bucket(true, 12345), 1);
  EXPECT_EQ(nn::gap_bucket(false, 0), 2);
  EXPECT_EQ(nn::gap_bucket(false, 1), 3);
  EXPECT_EQ(nn::gap_bucket(false, 3), 4);
  EXPECT_EQ(nn::gap_bucket(false, 86400), 2 + 16);
  EXPECT_EQ(nn::gap_bucket(false, -5), 2);  // clock skew counts as no gap
  EXPECT_EQ(nn::gap_bucket(false, int64_t{1} << 62), nn::kGapBuckets - 1);
}
