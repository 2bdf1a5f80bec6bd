// The model contract for the LibTorch models (small, fast configurations).
#include "../contract/model_contract.h"
#include "driftrec/nn/register.h"

namespace {
// Register before any test looks the models up.
const bool registered = (driftrec::nn::register_neural_models(), true);

struct SasRec {
  static constexpr const char* name = "sasrec";
  static nlohmann::json config() {
    return {{"dim", 16}, {"layers", 1}, {"max_len", 20}, {"epochs", 25}, {"eval_every", 0}, {"loss", "softmax"},
            {"dropout", 0.1}, {"lr", 0.005}, {"warmup_steps", 0}};
  }
};
using NeuralModels = ::testing::Types<SasRec>;
}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Neural, ModelContract, NeuralModels);
}  // namespace contract
