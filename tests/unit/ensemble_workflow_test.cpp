// workflow::build_ensemble: the blend is validated the way `train` and `evaluate` rank, on the
// split's own candidate items, and to the chosen objective.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/train.h"

using namespace driftrec;

namespace {

/// `model` trained with its defaults on `ds` (ranking only the items of `target_domains`, when
/// given) and saved to `dir`; returns `dir`.
std::string blend_member(const data::Dataset& ds, const std::string& model, const std::string& dir,
                         const std::vector<std::string>& target_domains = {}) {
  workflow::TrainOptions t;
  t.model = model;
  t.threads = 1;
  t.prepare.target_domains = target_domains;
  workflow::train_model(ds, t).save(dir);
  return dir;
}

}  // namespace

TEST(EnsembleWorkflow, ValidatesOnTheSplitsCandidatesAndObjective) {
  data::SynthOptions so;
  so.preset = "crossdomain";
  so.users = 150;
  so.items = 120;
  so.seed = 3;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  const auto root = std::filesystem::path(::testing::TempDir()) / "driftrec_ensemble_workflow";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  workflow::EnsembleOptions o;
  // Only social items are ranked and scored.
  o.members = {blend_member(ds, "pop", (root / "pop").string(), {"social"}),
               blend_member(ds, "itemknn", (root / "itemknn").string(), {"social"})};
  o.threads = 1;
  o.objective = "hr@5";
  const auto blend = workflow::build_ensemble(ds, o);
  EXPECT_EQ(blend.loaded.meta.at("objective"), "hr@5");
  ASSERT_TRUE(blend.validation.metrics.count("hr@5"));
  blend.save((root / "blend").string());
  // The recorded validation equals `evaluate --on valid` of the saved blend, which ranks the
  // social items only (before the fix the fit and the record ranked every item).
  workflow::EvaluateOptions e;
  e.on = "valid";
  e.threads = 1;
  const auto again = workflow::evaluate(models::load_model_dir((root / "blend").string()), ds, e);
  for (const char* m : {"hr@5", "ndcg@10", "hr@20"})
    EXPECT_NEAR(blend.validation.metrics.at(m), again.result.metrics.at(m), 1e-12) << m;
  // Refused without data as build_ensemble refuses them: the objective, too few members, a member
  // directory that is not there.
  EXPECT_NO_THROW(workflow::check_ensemble_options(o));
  o.objective = "bogus@3";
  EXPECT_THROW(workflow::build_ensemble(ds, o), InvalidInput);
  EXPECT_THROW(workflow::check_ensemble_options(o), InvalidInput);
  o.objective = "ndcg@10";
  auto one = o;
  one.members.pop_back();
  EXPECT_THROW(workflow::check_ensemble_options(one), InvalidInput);
  auto missing = o;
  missing.members.push_back((root / "absent").string());
  EXPECT_THROW(workflow::check_ensemble_options(missing), NotFound);
  std::filesystem::remove_all(root);
}

TEST(EnsembleWorkflow, SkipRepeatsFitsOnTargetsNewToTheUser) {
  // As train --skip-repeats: the weights are fitted, and the validation recorded, on targets new to
  // their user, which evaluate --on valid --skip-repeats scores again from the saved blend.
  data::SynthOptions so;
  so.preset = "ecommerce";  // users come back to items: some validation targets were seen before
  so.users = 120;
  so.items = 100;
  so.seed = 5;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  const auto root = std::filesystem::path(::testing::TempDir()) / "driftrec_ensemble_new_targets";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  workflow::EnsembleOptions o;
  o.members = {blend_member(ds, "pop", (root / "pop").string()),
               blend_member(ds, "itemknn", (root / "itemknn").string())};
  o.threads = 1;
  const auto plain = workflow::build_ensemble(ds, o);
  EXPECT_FALSE(plain.loaded.meta.at("validation_skip_repeats").get<bool>());
  o.skip_repeats = true;
  const auto fresh = workflow::build_ensemble(ds, o);
  EXPECT_TRUE(fresh.loaded.meta.at("validation_skip_repeats").get<bool>());
  EXPECT_LT(fresh.validation.users_evaluated, plain.validation.users_evaluated);
  fresh.save((root / "blend").string());
  workflow::EvaluateOptions e;
  e.on = "valid";
  e.threads = 1;
  e.skip_repeats = true;
  const auto again = workflow::evaluate(models::load_model_dir((root / "blend").string()), ds, e);
  EXPECT_EQ(fresh.validation.users_evaluated, again.result.users_evaluated);
  EXPECT_NEAR(fresh.validation.metrics.at("ndcg@10"), again.result.metrics.at("ndcg@10"), 1e-12);
  // With fixed weights and a refit split there is nothing to validate: no complaint, nothing recorded.
  o.weights = {1.0, 1.0};
  o.refit = true;
  EXPECT_FALSE(workflow::build_ensemble(ds, o).loaded.meta.at("validation_skip_repeats").get<bool>());
  std::filesystem::remove_all(root);
}
