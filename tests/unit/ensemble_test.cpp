// The ensemble model: its score arithmetic against a hand computation from the members' scores,
// weight fitting on validation, and input checks.
#include "driftrec/models/ensemble.h"

#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/registry.h"

using namespace driftrec;

namespace {

const data::Prepared& prepared() {
  static const data::Prepared p = [] {
    data::SynthOptions so;
    so.users = 200;
    so.items = 150;
    so.seed = 21;
    data::PrepareOptions po;
    po.dedup = true;
    return data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
  }();
  return p;
}

std::unique_ptr<models::Model> fitted(const std::string& name) {
  auto m = models::create_model(name);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(prepared().split.train, fo);
  return m;
}

std::vector<float> scores(const models::Model& m, const std::vector<data::Event>& h) {
  std::vector<float> out(static_cast<std::size_t>(m.n_items()));
  m.score(m.encode(-1, h), out.data());
  return out;
}

}  // namespace

TEST(Ensemble, WeightedSumOfZScores) {
  models::EnsembleModel ens(nlohmann::json{{"fit_weights", false}});
  ens.add_member(fitted("itemknn"), 3.0);
  ens.add_member(fitted("pop"), 1.0);
  EXPECT_DOUBLE_EQ(ens.weights()[0], 0.75);
  const auto h = models::user_history(prepared().split.train, 4);
  const auto a = scores(ens.member(0), h), b = scores(ens.member(1), h), e = scores(ens, h);
  auto z = [](const std::vector<float>& s) {
    double mean = 0, sq = 0;
    for (std::size_t i = 1; i < s.size(); ++i) mean += s[i];
    mean /= static_cast<double>(s.size() - 1);
    for (std::size_t i = 1; i < s.size(); ++i) sq += (s[i] - mean) * (s[i] - mean);
    const double sd = std::sqrt(sq / static_cast<double>(s.size() - 1));
    std::vector<double> out(s.size());
    for (std::size_t i = 1; i < s.size(); ++i) out[i] = (s[i] - mean) / sd;
    return out;
  };
  const auto za = z(a), zb = z(b);
  EXPECT_TRUE(std::isinf(e[0]));
  for (std::size_t i = 1; i < e.size(); ++i) EXPECT_NEAR(e[i], 0.75 * za[i] + 0.25 * zb[i], 1e-4) << i;
}

TEST(Ensemble, ReciprocalRankFusion) {
  models::EnsembleModel ens(
      nlohmann::json{{"fit_weights", false}, {"method", "rrf"}, {"rrf_k", 10.0}, {"rrf_depth", 20}});
  ens.add_member(fitted("itemknn"));
  ens.add_member(fitted("ials"));
  const auto h = models::user_history(prepared().split.train, 9);
  const auto e = scores(ens, h);
  std::vector<double> expect(e.size(), 0.0);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto s = scores(ens.member(k), h);
    std::vector<std::size_t> idx;
    for (std::size_t i = 1; i < s.size(); ++i) idx.push_back(i);
    std::stable_sort(idx.begin(), idx.end(), [&](auto x, auto y) { return s[x] > s[y]; });
    for (std::size_t r = 0; r < 20; ++r) expect[idx[r]] += 0.5 / (10.0 + static_cast<double>(r + 1));
  }
  for (std::size_t i = 1; i < e.size(); ++i) EXPECT_NEAR(e[i], expect[i], 1e-6) << i;
}

TEST(Ensemble, FittedWeightsAreAtLeastAsGoodAsTheBestMemberOnValidation) {
  const auto& p = prepared();
  eval::EvalOptions eo;
  eo.ks = {10};
  auto valid = [&](const models::Model& m) {
    return models::evaluate_model(m, p.full, p.split.valid, p.split.train, eo).metrics.at("ndcg@10");
  };
  models::EnsembleModel ens(nlohmann::json::object());
  ens.add_member(fitted("itemknn"));
  ens.add_member(fitted("pop"));
  ens.add_member(fitted("ials"));
  const double best_single = std::max({valid(ens.member(0)), valid(ens.member(1)), valid(ens.member(2))});
  models::FitOptions fo;
  fo.validate = valid;
  ens.fit(p.split.train, fo);
  EXPECT_GE(valid(ens) + 1e-9, best_single);
  double total = 0;
  for (const auto w : ens.weights()) total += w;
  EXPECT_NEAR(total, 1.0, 1e-9);
}

TEST(Ensemble, BadInput) {
  models::EnsembleModel ens(nlohmann::json::object());
  EXPECT_THROW(ens.fit(prepared().split.train, {}), InvalidInput);  // no members
  ens.add_member(fitted("pop"));
  EXPECT_THROW(ens.set_weights({1.0, 2.0}), InvalidInput);
  EXPECT_THROW(ens.set_weights({0.0}), InvalidInput);
  EXPECT_THROW(ens.set_weights({-1.0}), InvalidInput);
  EXPECT_THROW(ens.add_member(models::create_model("ensemble")), InvalidInput);
  // A member trained on other data (another item count) is refused.
  data::DatasetBuilder b;
  b.add("u", "x", 1);
  b.add("u", "y", 2);
  auto other = models::create_model("pop");
  other->fit(b.finish(), {});
  EXPECT_THROW(ens.add_member(std::move(other)), InvalidInput);
  EXPECT_THROW(models::create_model("ensemble", {{"method", "vote"}}), InvalidInput);
}
