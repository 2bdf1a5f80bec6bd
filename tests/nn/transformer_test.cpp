// The transformer layers against plain reference computations, and causality.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "../../src/nn/data_settings.h"
#include "../../src/nn/seqnets.h"
#include "driftrec/core/error.h"
#include "driftrec/data/dataset.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

using namespace driftrec;

TEST(Transformer, AttentionMatchesAReferenceLoop) {
  torch::manual_seed(1);
  nn::BlockOptions o;
  o.d = 8;
  o.heads = 2;
  o.ffn = 8;
  nn::Block block(o);
  block->eval();
  const int64_t L = 5;
  auto x = torch::randn({1, L, 8});
  auto mask = torch::zeros({L, L}).masked_fill(torch::ones({L, L}, torch::kBool).triu(1), -INFINITY);
  torch::Tensor attn;
  auto y = block->forward(x, mask, &attn);
  // Reference: per head, softmax over keys j <= i of q_i . k_j / sqrt(dh).
  auto h = block->ln1(x);
  auto qkv = block->qkv(h)[0];  // [L, 3d]
  const int64_t d = 8, dh = 4;
  torch::Tensor ctx = torch::zeros({L, d});
  torch::Tensor mean_attn = torch::zeros({L, L});
  for (int64_t head = 0; head < 2; ++head)
    for (int64_t i = 0; i < L; ++i) {
      std::vector<double> w;
      double z = 0;
      for (int64_t j = 0; j <= i; ++j) {
        const double s =
            (qkv[i].slice(0, head * dh, head * dh + dh) * qkv[j].slice(0, d + head * dh, d + head * dh + dh))
                .sum()
                .item<double>() /
            2.0;
        w.push_back(std::exp(s));
        z += w.back();
      }
      for (int64_t j = 0; j <= i; ++j) {
        const double a = w[static_cast<std::size_t>(j)] / z;
        mean_attn[i][j] += a / 2.0;
        ctx[i].slice(0, head * dh, head * dh + dh) += a * qkv[j].slice(0, 2 * d + head * dh, 2 * d + head * dh + dh);
      }
    }
  EXPECT_TRUE(torch::allclose(attn[0], mean_attn, 1e-5, 1e-5));
  auto y_ref = x[0] + block->out(ctx);
  y_ref = y_ref + block->ff2(torch::gelu(block->ff1(block->ln2(y_ref))));
  EXPECT_TRUE(torch::allclose(y[0], y_ref, 1e-4, 1e-5));
}

TEST(Transformer, SwigluFeedForwardGatesOneHalfOfItsHiddenLayerByTheOther) {
  torch::manual_seed(2);
  nn::BlockOptions o;
  o.d = 8;
  o.ffn = 6;
  o.swiglu = true;
  nn::Block block(o);
  block->eval();
  EXPECT_EQ(block->ff1->weight.size(0), 12);  // gate and value, ffn each
  EXPECT_EQ(block->ff2->weight.size(1), 6);
  const int64_t L = 4;
  auto x = torch::randn({1, L, 8});
  auto mask = torch::zeros({L, L}).masked_fill(torch::ones({L, L}, torch::kBool).triu(1), -INFINITY);
  auto y = block->forward(x, mask, nullptr);
  // Reference: the attention half through the block's own layers, then the gated unit written out
  // from ff1's two weight halves.
  auto h = block->ln1(x);
  auto q = block->qkv(h)[0];
  auto s = torch::matmul(q.slice(1, 0, 8), q.slice(1, 8, 16).t()) / std::sqrt(8.0) + mask;
  auto ctx = torch::matmul(torch::softmax(s, -1), q.slice(1, 16, 24));
  auto y_ref = x[0] + block->out(ctx);
  auto n = block->ln2(y_ref);
  auto w = block->ff1->weight, b = block->ff1->bias;
  auto gate = torch::matmul(n, w.slice(0, 0, 6).t()) + b.slice(0, 0, 6);
  auto value = torch::matmul(n, w.slice(0, 6, 12).t()) + b.slice(0, 6, 12);
  auto unit = gate * torch::sigmoid(gate) * value;
  y_ref = y_ref + block->ff2(unit);
  EXPECT_TRUE(torch::allclose(y[0], y_ref, 1e-4, 1e-5));
}

// Causality and padding invariance of every encoder, sasrec included: seqnets_test.cpp.

class EveryNeuralModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryNeuralModel, OverfitsATinyDataset) {
  nn::register_neural_models();
  // Users walk fixed cycles from different starting points and for different lengths, so every
  // transition is seen at many positions: the next item is determined by the last one.
  data::DatasetBuilder b;
  const std::vector<std::vector<std::string>> cycles = {
      {"a", "b", "c", "d"}, {"e", "f", "g", "h"}, {"i", "j", "k", "l"}};
  for (int c = 0; c < 3; ++c)
    for (int start = 0; start < 4; ++start)
      for (int len = 2; len <= 8; ++len) {
        const std::string user = "u" + std::to_string(c) + "_" + std::to_string(start) + "_" + std::to_string(len);
        for (int t = 0; t < len; ++t)
          b.add(user, cycles[static_cast<std::size_t>(c)][static_cast<std::size_t>((start + t) % 4)], t);
      }
  const auto ds = b.finish();
  nlohmann::json cfg = {{"dim", 32},      {"max_len", 8}, {"epochs", 60},      {"eval_every", 0}, {"loss", "softmax"},
                        {"dropout", 0.0}, {"lr", 0.01},   {"warmup_steps", 0}, {"batch_size", 16}};
  if (GetParam() == "sasrec" || GetParam() == "hstu") cfg["layers"] = 1;
  auto m = models::create_model(GetParam(), cfg);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(ds, fo);
  auto next_of = [&](const std::vector<std::string>& items) {
    std::vector<data::Event> h;
    for (std::size_t t = 0; t < items.size(); ++t)
      h.push_back(data::Event{-1, ds.items.find(items[t]), static_cast<std::int64_t>(t), 0, 0, 1.0f});
    models::RecommendOptions ro;
    ro.exclude_seen = false;
    return ds.items.name(m->recommend(m->encode(-1, h), 1, ro).items[0]);
  };
  EXPECT_EQ(next_of({"a", "b"}), "c");
  EXPECT_EQ(next_of({"e", "f", "g"}), "h");
  EXPECT_EQ(next_of({"k"}), "l");
  EXPECT_EQ(next_of({"c", "d", "a", "b", "c", "d"}), "a");
}

INSTANTIATE_TEST_SUITE_P(Models, EveryNeuralModel, ::testing::Values("sasrec", "gru4rec", "caser", "hstu"),
                         [](const auto& info) { return info.param; });

// With the sampled objective's lazy item-table optimiser (sparse_items), with dense AdamW, and with a
// moving average of the weights (checkpointed beside the raw weights).
class Resume : public ::testing::TestWithParam<std::string> {};

TEST_P(Resume, ResumingFromACheckpointGivesTheUninterruptedModel) {
  nn::register_neural_models();
  data::DatasetBuilder b;
  for (int u = 0; u < 40; ++u)
    for (int t = 0; t < 6 + u % 5; ++t) b.add("u" + std::to_string(u), "i" + std::to_string((u * 3 + t * 7) % 30), t);
  const auto ds = b.finish();
  nlohmann::json base = {{"dim", 16},      {"layers", 1},    {"max_len", 10},   {"eval_every", 0},
                         {"dropout", 0.2}, {"negatives", 8}, {"batch_size", 8}, {"sparse_items", GetParam() == "Lazy"}};
  if (GetParam() == "Average") base["weight_average"] = 0.9;
  auto cfg = [&](int epochs) {
    auto c = base;
    c["epochs"] = epochs;
    return c;
  };
  models::FitOptions fo;
  fo.threads = 1;
  auto full = models::create_model("sasrec", cfg(6));
  full->fit(ds, fo);
  const std::string dir = ::testing::TempDir() + "/driftrec_ckpt_" + std::to_string(::getpid());
  models::FitOptions first = fo;
  first.checkpoint_dir = dir;
  auto part = models::create_model("sasrec", cfg(3));
  part->fit(ds, first);  // "interrupted" after 3 epochs
  models::FitOptions again = first;
  again.resume = true;
  auto resumed = models::create_model("sasrec", cfg(6));
  resumed->fit(ds, again);
  const auto h = models::user_history(ds, 1);
  std::vector<float> a(static_cast<std::size_t>(full->n_items())), c(a.size());
  full->score(full->encode(-1, h), a.data());
  resumed->score(resumed->encode(-1, h), c.data());
  EXPECT_EQ(a, c);
  if (GetParam() == "Average") {  // the released model is the average, not the last raw weights
    auto plain = base;
    plain["weight_average"] = 0.0;
    plain["epochs"] = 6;
    auto raw = models::create_model("sasrec", plain);
    raw->fit(ds, fo);
    std::vector<float> r(a.size());
    raw->score(raw->encode(-1, h), r.data());
    EXPECT_NE(a, r);
  }
  models::FitOptions missing = fo;
  missing.resume = true;
  missing.checkpoint_dir = dir + "_absent";
  EXPECT_THROW(models::create_model("sasrec", cfg(2))->fit(ds, missing), NotFound);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(SasRec, Resume, ::testing::Values("Lazy", "Dense", "Average"),
                         [](const auto& info) { return info.param; });

// loss: auto picks the objective by the catalogue's size and saves what it chose.
TEST(SasRec, AutoLossFollowsTheSizeRule) {
  nn::register_neural_models();
  data::DatasetBuilder b;
  for (int u = 0; u < 30; ++u)
    for (int t = 0; t < 6; ++t) b.add("u" + std::to_string(u), "i" + std::to_string((u * 3 + t * 7) % 30), t);
  const auto ds = b.finish();
  models::FitOptions fo;
  fo.threads = 1;
  auto fit = [&](int64_t max_items) {
    auto m = models::create_model("sasrec", {{"dim", 8},
                                             {"layers", 1},
                                             {"max_len", 6},
                                             {"epochs", 1},
                                             {"eval_every", 0},
                                             {"loss", "auto"},
                                             {"softmax_max_items", max_items},
                                             {"sparse_items", false}});
    m->fit(ds, fo);
    return m->config();
  };
  const auto small = fit(30);  // 30 items: the full softmax, in one block (below 4096 items)
  EXPECT_EQ(small["loss"], "softmax");
  EXPECT_EQ(small["softmax_chunk"], 0);
  EXPECT_EQ(small["sparse_items"], false);
  const auto large = fit(29);  // above the limit: sampled softmax, 4096 uniform negatives, lazy item table
  EXPECT_EQ(large["loss"], "sampled");
  EXPECT_EQ(large["sampling"], "uniform");
  EXPECT_EQ(large["negatives"], 4096);
  EXPECT_EQ(large["sparse_items"], true);
}

// Below softmax_max_items, loss: auto streams the softmax only where a batch's dense logits are large:
// whole sequences score every position, a prefix sample only its last prefix_stride ones.
TEST(SasRec, AutoLossStreamsOnlyLargeLogits) {
  EXPECT_EQ(nn::auto_softmax_chunk(4096, 1 << 20), 0);       // one chunk: nothing to stream
  EXPECT_EQ(nn::auto_softmax_chunk(12101, 128), 0);          // Beauty's prefix samples: 1.5M scores
  EXPECT_EQ(nn::auto_softmax_chunk(12101, 128 * 50), 4096);  // Beauty's whole sequences: 77M
  EXPECT_EQ(nn::auto_softmax_chunk(1 << 14, 1 << 10), 0);    // exactly 2^24 scores
  EXPECT_EQ(nn::auto_softmax_chunk((1 << 14) + 1, 1 << 10), 4096);
  nn::register_neural_models();
  data::DatasetBuilder b;  // 40 users with 8 events over 5,000 items (the others seen once)
  for (int u = 0; u < 40; ++u)
    for (int t = 0; t < 8; ++t) b.add("u" + std::to_string(u), "i" + std::to_string((u * 5 + t * 11) % 60), t);
  for (int k = 60; k < 5000; ++k) b.add("w" + std::to_string(k), "i" + std::to_string(k), 0);
  const auto ds = b.finish();
  models::FitOptions fo;
  fo.threads = 1;
  auto chunk = [&](const std::string& samples) {
    auto m = models::create_model("sasrec", {{"dim", 8},
                                             {"layers", 1},
                                             {"max_len", 20},
                                             {"batch_size", 2048},
                                             {"epochs", 1},
                                             {"eval_every", 0},
                                             {"loss", "auto"},
                                             {"samples", samples}});
    m->fit(ds, fo);
    EXPECT_EQ(m->config()["loss"], "softmax");
    EXPECT_EQ(m->config()["samples"], samples == "auto" ? "prefixes" : samples);
    return m->config()["softmax_chunk"].get<int64_t>();
  };
  EXPECT_EQ(chunk("sequences"), 4096);  // 2,048 x 20 positions x 5,000 items: 205M scores
  EXPECT_EQ(chunk("auto"), 0);          // resolved to prefix samples first: 2,048 x 1 x 5,000, 10M
}
