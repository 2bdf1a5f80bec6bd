#pragma once
// The contract every model passes (DESIGN.md "The model contract"), as a parameterised typed
// suite: each test binary instantiates it with its models (classic models in
// model_contract_test.cpp, LibTorch models in tests/nn/). A type provides `name` and `config()`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"

namespace contract {

using namespace driftrec;

struct Fixture {
  data::Prepared p;
  explicit Fixture(const std::string& preset) {
    data::SynthOptions so;
    so.preset = preset;
    so.users = 150;
    so.items = 120;
    so.categories = 8;
    so.seed = 3;
    data::PrepareOptions po;
    po.dedup = true;
    p = data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
  }
};
/// The contract data: the synthetic `ecommerce` preset, or the type's `preset` when it has one
/// (e.g. "crossdomain" for a model that needs two domains).
template <typename M, typename = void>
struct PresetOf {
  static std::string get() { return "ecommerce"; }
};
template <typename M>
struct PresetOf<M, std::void_t<decltype(M::preset)>> {
  static std::string get() { return M::preset; }
};
template <typename M>
const Fixture& fixture() {
  static const Fixture f(PresetOf<M>::get());
  return f;
}

template <typename M>
class ModelContract : public ::testing::Test {
 protected:
  std::unique_ptr<models::Model> fitted(std::uint64_t seed = 1) const {
    auto m = models::create_model(M::name, M::config());
    models::FitOptions fo;
    fo.threads = 2;
    fo.seed = seed;
    m->fit(fixture<M>().p.split.train, fo);
    return m;
  }
  models::UserState state_of(const models::Model& m, std::size_t case_index) const {
    const auto& p = fixture<M>().p;
    const auto& c = p.split.test.at(case_index);
    return m.encode(c.user, p.full.log.events(p.full.log.user_begin(c.user), c.history_end));
  }
  std::vector<float> scores(const models::Model& m, const models::UserState& s) const {
    std::vector<float> out(static_cast<std::size_t>(m.n_items()));
    m.score(s, out.data());
    return out;
  }
};

TYPED_TEST_SUITE_P(ModelContract);

TYPED_TEST_P(ModelContract, RegisteredWithDeclaredParameters) {
  const auto names = models::model_names();
  EXPECT_NE(std::find(names.begin(), names.end(), TypeParam::name), names.end());
  auto m = models::create_model(TypeParam::name, TypeParam::config());
  EXPECT_EQ(m->name(), TypeParam::name);
  for (const auto& spec : models::model_params(TypeParam::name).specs()) EXPECT_TRUE(m->config().contains(spec.name));
}

TYPED_TEST_P(ModelContract, FitsAndBeatsRandom) {
  const auto m = this->fitted();
  const auto& p = fixture<TypeParam>().p;
  const auto r = models::evaluate_model(*m, p.full, p.split.test, p.split.train);
  // Random ranking over ~n unseen items gives HR@10 of about 10/n.
  const double random_hr = 10.0 / static_cast<double>(p.full.items.count() - 20);
  EXPECT_GT(r.metrics.at("hr@10"), 1.5 * random_hr) << TypeParam::name;
  EXPECT_GT(r.metrics.at("ndcg@10"), 0.0);
}

TYPED_TEST_P(ModelContract, SameSeedSameModel) {
  const auto a = this->fitted(5), b = this->fitted(5);
  const auto sa = this->scores(*a, this->state_of(*a, 0)), sb = this->scores(*b, this->state_of(*b, 0));
  EXPECT_EQ(0, std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)));
}

TYPED_TEST_P(ModelContract, SaveLoadGivesIdenticalScores) {
  const auto m = this->fitted();
  test::TempDir dir;
  const auto path = dir.file("model");
  models::save_model_dir(path, *m, fixture<TypeParam>().p.split.train, {{"note", "contract"}});
  const auto loaded = models::load_model_dir(path);
  EXPECT_EQ(loaded.model->name(), TypeParam::name);
  EXPECT_EQ(loaded.meta["note"], "contract");
  EXPECT_EQ(loaded.items.checksum(), fixture<TypeParam>().p.split.train.items.checksum());
  for (std::size_t c = 0; c < 5; ++c) {
    const auto s1 = this->scores(*m, this->state_of(*m, c));
    const auto s2 = this->scores(*loaded.model, this->state_of(*loaded.model, c));
    ASSERT_EQ(s1.size(), s2.size());
    EXPECT_EQ(0, std::memcmp(s1.data(), s2.data(), s1.size() * sizeof(float))) << "case " << c;
  }
  // Saving again over an existing directory replaces it atomically.
  models::save_model_dir(path, *m, fixture<TypeParam>().p.split.train);
  EXPECT_FALSE(models::load_model_dir(path).meta.contains("note"));
}

TYPED_TEST_P(ModelContract, EncodeBatchMatchesEncode) {
  const auto m = this->fitted();
  const auto& p = fixture<TypeParam>().p;
  std::vector<std::int32_t> users;
  std::vector<std::vector<data::Event>> histories;
  for (std::size_t c = 0; c < 20 && c < p.split.test.size(); ++c) {
    const auto& ec = p.split.test[c];
    users.push_back(ec.user);
    histories.push_back(p.full.log.events(p.full.log.user_begin(ec.user), ec.history_end));
  }
  users.push_back(-1);  // an unknown user with an empty history
  histories.emplace_back();
  const auto batch = m->encode_batch(users, histories);
  ASSERT_EQ(batch.size(), users.size());
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto one = m->encode(users[i], histories[i]);
    EXPECT_EQ(batch[i].user, one.user);
    EXPECT_EQ(batch[i].history.size(), one.history.size());
    ASSERT_EQ(batch[i].vector.size(), one.vector.size());
    for (std::size_t k = 0; k < one.vector.size(); ++k)
      EXPECT_NEAR(batch[i].vector[k], one.vector[k], 1e-4 * (1.0 + std::abs(one.vector[k]))) << "user " << i;
  }
  EXPECT_THROW(m->encode_batch(users, {}), InvalidInput);
}

TYPED_TEST_P(ModelContract, ObserveChangesTheNextRecommendation) {
  const auto m = this->fitted();
  auto s = this->state_of(*m, 1);
  const auto before = m->recommend(s, 10);
  const auto v0 = s.version;
  const auto t = s.history.empty() ? 0 : s.history.back().ts + 1;
  m->observe(s, data::Event{s.user, before.items[0], t, 0, 0, 1.0f});
  EXPECT_EQ(s.version, v0 + 1);
  const auto after = m->recommend(s, 10);
  EXPECT_NE(before.items, after.items);
  EXPECT_EQ(std::find(after.items.begin(), after.items.end(), before.items[0]), after.items.end());
  if (m->capabilities().online_update) {
    // The interest state itself moved, not only the seen set: raw scores differ.
    auto fresh = this->state_of(*m, 1);
    EXPECT_NE(this->scores(*m, fresh), this->scores(*m, s));
  }
}

TYPED_TEST_P(ModelContract, RecommendRespectsExclusionsAndCandidates) {
  const auto m = this->fitted();
  const auto s = this->state_of(*m, 2);
  const auto top = m->recommend(s, 10);
  ASSERT_EQ(top.size(), 10u);
  for (std::size_t r = 1; r < top.size(); ++r) EXPECT_GE(top.scores[r - 1], top.scores[r]);
  for (const auto& e : s.history) EXPECT_EQ(std::find(top.items.begin(), top.items.end(), e.item), top.items.end());
  models::RecommendOptions o;
  o.exclude = {top.items[0], top.items[1]};
  const auto t2 = m->recommend(s, 10, o);
  EXPECT_EQ(std::find(t2.items.begin(), t2.items.end(), top.items[0]), t2.items.end());
  EXPECT_EQ(t2.items[0], top.items[2]);
  models::RecommendOptions only;
  only.candidates = {top.items[5], top.items[3], 0};
  const auto t3 = m->recommend(s, 10, only);
  EXPECT_EQ(t3.items, (std::vector<std::int32_t>{top.items[3], top.items[5]}));
  // Batch form equals single form.
  const auto batch = m->recommend(std::vector<const models::UserState*>{&s, &s}, 10);
  EXPECT_EQ(batch[1].items, top.items);
  EXPECT_FALSE(top.items.empty() || top.items[0] == 0);
}

TYPED_TEST_P(ModelContract, BadInputThrowsTheDocumentedError) {
  auto fresh = models::create_model(TypeParam::name, TypeParam::config());
  EXPECT_THROW(fresh->encode(-1, {}), NotSupported);
  EXPECT_THROW(models::create_model(TypeParam::name, {{"no_such_parameter", 1}}), InvalidInput);
  data::Dataset empty;
  EXPECT_THROW(fresh->fit(empty, {}), InvalidInput);
  const auto m = this->fitted();
  auto s = this->state_of(*m, 0);
  EXPECT_THROW(m->observe(s, data::Event{0, -3, 0, 0, 0, 1.0f}), InvalidInput);
  // Items the model never saw are ignored, not an error.
  const auto v = s.version;
  m->observe(s, data::Event{0, m->n_items() + 5, 0, 0, 0, 1.0f});
  EXPECT_EQ(s.version, v);
  if (m->capabilities().explain) {
    EXPECT_THROW(m->explain(s, m->n_items()), InvalidInput);
  } else {
    EXPECT_THROW(m->explain(s, 1), NotSupported);
  }
  test::TempDir dir;
  EXPECT_THROW(models::load_model_dir(dir.file("absent")), NotFound);
  const auto path = dir.file("model");
  models::save_model_dir(path, *m, fixture<TypeParam>().p.split.train);
  {  // flip one byte in the weights: the checksum catches it
    std::fstream f(path + "/" + m->weights_file(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    char c;
    f.read(&c, 1);
    f.seekp(20);
    c = static_cast<char>(c ^ 0x5A);
    f.write(&c, 1);
  }
  EXPECT_THROW(models::load_model_dir(path), CorruptModel);
}

TYPED_TEST_P(ModelContract, ExplainsWithValidPositions) {
  const auto m = this->fitted();
  const auto s = this->state_of(*m, 3);
  if (!m->capabilities().explain) {  // the capability is declared, so the call must say so
    EXPECT_THROW(m->explain(s, 1), NotSupported);
    return;
  }
  const auto top = m->recommend(s, 3);
  const auto attr = m->explain(s, top.items[0]);
  ASSERT_FALSE(attr.empty());
  for (const auto& a : attr) {
    ASSERT_LT(a.position, s.history.size());
    EXPECT_EQ(s.history[a.position].item, a.item);
  }
  for (std::size_t k = 1; k < attr.size(); ++k) EXPECT_GE(attr[k - 1].weight, attr[k].weight);
}

REGISTER_TYPED_TEST_SUITE_P(ModelContract, RegisteredWithDeclaredParameters, FitsAndBeatsRandom, SameSeedSameModel,
                            SaveLoadGivesIdenticalScores, EncodeBatchMatchesEncode, ObserveChangesTheNextRecommendation,
                            RecommendRespectsExclusionsAndCandidates, BadInputThrowsTheDocumentedError,
                            ExplainsWithValidPositions);

}  // namespace contract
