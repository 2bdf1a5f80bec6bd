// The content (text) tower: pooling against plain references, cold items scored by content
// alone, recommendation of new items through their text, word and item vector files.
#include <gtest/gtest.h>

#include <fstream>

#include "../../src/nn/seqnets.h"
#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

using namespace driftrec;

namespace {

// 4 items (+ padding); item 3 has no tokens; item 4 is cold (no training events).
nn::SideInfo text_side(const std::string& pool) {
  nn::SideInfo s;
  s.n_items = 5;
  s.text_pool = pool;
  s.tokens = torch::tensor({0, 0, 0, 2, 3, 0, 4, 0, 0, 0, 0, 0, 2, 3, 0}, torch::kLong).view({5, 3});
  s.n_tokens = 5;
  s.token_dim = 6;
  s.known = torch::tensor({0.0f, 1.0f, 1.0f, 1.0f, 0.0f});
  return s;
}

}  // namespace

TEST(ContentTower, PoolingMatchesAPlainComputation) {
  torch::manual_seed(2);
  for (const std::string pool : {"cnn", "attention"}) {
    nn::InputEmbeddingImpl emb(text_side(pool), 8);
    emb.eval();
    torch::NoGradGuard g;
    auto got = emb.content_vectors(torch::tensor({1, 2, 3}, torch::kLong));  // [3, 8]
    for (int64_t item = 1; item <= 3; ++item) {
      std::vector<int64_t> toks;
      for (int64_t t = 0; t < 3; ++t)
        if (auto k = emb.token_table[item][t].item<int64_t>(); k != 0) toks.push_back(k);
      torch::Tensor want = torch::zeros({8});
      if (!toks.empty() && pool == "cnn") {
        // Width-3 convolution with zero padding over the full (padded) row, max over real tokens.
        auto e = emb.tokens->weight.index_select(0, emb.token_table[item]);  // [3, 6], padding rows are zero
        auto W = emb.conv->weight;                                           // [8, 6, 3]
        want = torch::full({8}, -1e30);
        for (int64_t t = 0; t < 3; ++t) {
          if (emb.token_table[item][t].item<int64_t>() == 0) continue;
          auto acc = emb.conv->bias.clone();
          for (int64_t k = 0; k < 3; ++k) {
            const auto src = t + k - 1;
            if (src < 0 || src >= 3) continue;
            acc = acc + torch::matmul(W.select(2, k), e[src]);
          }
          want = torch::max(want, torch::relu(acc));
        }
      } else if (!toks.empty()) {
        std::vector<torch::Tensor> es;
        std::vector<double> scores;
        for (auto k : toks) {
          auto e = emb.tokens->weight[k];
          es.push_back(e);
          scores.push_back(emb.att_score(torch::tanh(emb.att_hidden(e.unsqueeze(0))))[0][0].item<double>());
        }
        double mx = *std::max_element(scores.begin(), scores.end()), z = 0;
        for (double s : scores) z += std::exp(s - mx);
        auto pooled = torch::zeros({6});
        for (std::size_t i = 0; i < es.size(); ++i) pooled = pooled + es[i] * (std::exp(scores[i] - mx) / z);
        want = emb.text_out(pooled.unsqueeze(0))[0];
      }
      EXPECT_TRUE(torch::allclose(got[item - 1], want, 1e-5, 1e-5)) << pool << " item " << item;
    }
  }
}

TEST(ContentTower, ColdItemsAreTheirContentAlone) {
  torch::manual_seed(5);
  nn::InputEmbeddingImpl emb(text_side("attention"), 8);
  emb.eval();
  torch::NoGradGuard g;
  auto v = emb.item_vectors(torch::tensor({1, 4}, torch::kLong));
  // Items 1 and 4 have the same tokens; 4 has no training events, so it has no id part.
  EXPECT_TRUE(torch::allclose(v[1], emb.content_vectors(torch::tensor({4}, torch::kLong))[0], 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(v[0] - emb.items->weight[1], v[1], 1e-5, 1e-5));
  // id_dropout only acts in training.
  auto side = text_side("cnn");
  side.id_dropout = 1.0;
  nn::InputEmbeddingImpl dropping(side, 8);
  dropping.train();
  auto all_dropped = dropping.item_vectors(torch::tensor({1}, torch::kLong))[0];
  EXPECT_TRUE(torch::allclose(all_dropped, dropping.content_vectors(torch::tensor({1}, torch::kLong))[0], 1e-6, 1e-6));
}

namespace {

// News-like data: 4 topics, each item's title is 3 words of its topic ("topicK_wJ") plus common
// words. Users read items of one topic. 40 items per topic are never read in training (new); the
// test asks whether a user's top new item is from the user's topic.
struct NewsCase {
  data::Dataset ds;
  std::vector<int> user_topic;  // by user index
  std::vector<int> item_topic;  // by item index
  std::vector<std::int32_t> fresh;
};

NewsCase news_case() {
  NewsCase c;
  data::DatasetBuilder b;
  Rng rng(21);
  std::vector<std::vector<std::string>> read(4), unread(4);
  for (int k = 0; k < 4; ++k) {
    for (int j = 0; j < 60; ++j) {
      const std::string id = "n" + std::to_string(k) + "_" + std::to_string(j);
      std::vector<std::string> tokens;
      for (int w = 0; w < 3; ++w)
        tokens.push_back("topic" + std::to_string(k) + "_w" + std::to_string(rng.uniform_int(8)));
      for (int w = 0; w < 2; ++w) tokens.push_back("common" + std::to_string(rng.uniform_int(30)));
      b.set_item_info(id, {}, tokens, id);
      (j < 20 ? read : unread)[static_cast<std::size_t>(k)].push_back(id);
    }
  }
  std::vector<int> topic_of_user;
  for (int u = 0; u < 200; ++u) {
    const int k = u % 4;
    topic_of_user.push_back(k);
    for (int t = 0; t < 6; ++t)
      b.add("u" + std::to_string(u), read[static_cast<std::size_t>(k)][rng.uniform_int(20)], t);
  }
  c.ds = b.finish();
  c.user_topic.assign(static_cast<std::size_t>(c.ds.n_users()), -1);
  for (int u = 0; u < 200; ++u)
    c.user_topic[static_cast<std::size_t>(c.ds.users.find("u" + std::to_string(u)))] =
        topic_of_user[static_cast<std::size_t>(u)];
  c.item_topic.assign(static_cast<std::size_t>(c.ds.n_items()), -1);
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 60; ++j) {
      const auto i = c.ds.items.find("n" + std::to_string(k) + "_" + std::to_string(j));
      c.item_topic[static_cast<std::size_t>(i)] = k;
      if (j >= 20) c.fresh.push_back(i);
    }
  return c;
}

double fresh_topic_hits(const models::Model& m, const NewsCase& c) {
  models::RecommendOptions ro;
  ro.candidates = c.fresh;
  int hits = 0, n = 0;
  for (std::int32_t u = 1; u < c.ds.n_users(); u += 3) {
    const auto top = m.recommend(m.encode(u, models::user_history(c.ds, u)), 1, ro);
    hits += c.item_topic[static_cast<std::size_t>(top.items.at(0))] == c.user_topic[static_cast<std::size_t>(u)];
    ++n;
  }
  return static_cast<double>(hits) / n;
}

nlohmann::json news_config() {
  return {{"dim", 16},         {"max_len", 10},  {"layers", 1}, {"epochs", 15},      {"eval_every", 0},
          {"loss", "softmax"}, {"dropout", 0.0}, {"lr", 0.01},  {"warmup_steps", 0}, {"id_dropout", 0.3}};
}

}  // namespace

TEST(ContentModel, RecommendsNewItemsThroughTheirText) {
  nn::register_neural_models();
  const auto c = news_case();
  models::FitOptions fo;
  fo.threads = 1;
  for (const std::string pool : {"cnn", "attention"}) {
    auto cfg = news_config();
    cfg["text"] = pool;
    auto m = models::create_model("sasrec", cfg);
    m->fit(c.ds, fo);
    EXPECT_GT(fresh_topic_hits(*m, c), 0.9) << pool;
  }
  // Ids alone know nothing about items never read: about one in four.
  auto ids_only = models::create_model("sasrec", news_config());
  ids_only->fit(c.ds, fo);
  EXPECT_LT(fresh_topic_hits(*ids_only, c), 0.6);
}

TEST(ContentModel, WordAndItemVectorFiles) {
  nn::register_neural_models();
  const auto c = news_case();
  test::TempDir dir;
  // Word vectors of another width (5) than the model (16): a projection follows the pooling.
  std::string words;
  for (int k = 0; k < 4; ++k)
    for (int w = 0; w < 8; ++w) {
      words += "topic" + std::to_string(k) + "_w" + std::to_string(w);
      for (int x = 0; x < 5; ++x) words += x == k ? " 1" : " 0";
      words += "\n";
    }
  auto cfg = news_config();
  cfg["text"] = "attention";
  cfg["word_vectors"] = dir.write("words.txt", words);
  models::FitOptions fo;
  fo.threads = 1;
  auto m = models::create_model("sasrec", cfg);
  m->fit(c.ds, fo);
  EXPECT_GT(fresh_topic_hits(*m, c), 0.9);
  cfg["word_vectors"] = dir.write("unrelated.txt", "zebra 1 2\n");
  EXPECT_TRUE(test::throws_with<InvalidInput>([&] { models::create_model("sasrec", cfg)->fit(c.ds, fo); },
                                              "none of its words occur in the item titles"));
  // Item vectors only (no text): one-hot topic vectors from a file.
  std::string items = "item_id,a,b,c,d\n";
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 60; ++j) {
      items += "n" + std::to_string(k) + "_" + std::to_string(j);
      for (int x = 0; x < 4; ++x) items += x == k ? ",1" : ",0";
      items += "\n";
    }
  auto vcfg = news_config();
  vcfg["item_vectors"] = dir.write("items.csv", items);
  auto v = models::create_model("gru4rec", vcfg);
  v->fit(c.ds, fo);
  EXPECT_GT(fresh_topic_hits(*v, c), 0.9);
}
