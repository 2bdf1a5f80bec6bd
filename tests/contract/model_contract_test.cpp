// The model contract, instantiated for the classic models. Add a model here (or in
// tests/nn/nn_contract_test.cpp for LibTorch models) and it is held to the same promises.
#include "model_contract.h"

namespace {
struct Pop {
  static constexpr const char* name = "pop";
  static nlohmann::json config() { return nlohmann::json::object(); }
};
struct ItemKnn {
  static constexpr const char* name = "itemknn";
  static nlohmann::json config() { return {{"decay", "position"}, {"half_life", 3.0}, {"window", 3}}; }
};
struct Bpr {
  static constexpr const char* name = "bpr";
  static nlohmann::json config() { return {{"factors", 16}, {"epochs", 15}, {"eval_every", 0}}; }
};
struct Ials {
  static constexpr const char* name = "ials";
  static nlohmann::json config() { return {{"factors", 16}, {"iterations", 5}}; }
};
struct Ease {
  static constexpr const char* name = "ease";
  static nlohmann::json config() { return {{"lambda", 50.0}}; }
};
struct Gfcf {
  static constexpr const char* name = "gfcf";
  static nlohmann::json config() { return {{"k", 32}}; }
};
// Ensembles trained from scratch through the registry (members named in the config).
struct EnsembleWeighted {
  static constexpr const char* name = "ensemble";
  static nlohmann::json config() { return {{"members", "itemknn,ials"}}; }
};
struct EnsembleRrf {
  static constexpr const char* name = "ensemble";
  static nlohmann::json config() { return {{"members", "pop,ials"}, {"method", "rrf"}}; }
};
using ClassicModels = ::testing::Types<Pop, ItemKnn, Bpr, Ials, Ease, Gfcf, EnsembleWeighted, EnsembleRrf>;
}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Classic, ModelContract, ClassicModels);
}  // namespace contract
