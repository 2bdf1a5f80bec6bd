#include "driftrec/nn/register.h"

#include <algorithm>
#include <mutex>

#include "driftrec/models/registry.h"
#include "driftrec/nn/sequential.h"
#include "lightgcn.h"
#include "pch.h"

namespace driftrec::nn {

void register_neural_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const std::string kind : {"sasrec", "gru4rec", "caser", "hstu", "crossdomain"}) {
      models::register_model(
          kind, [kind]() -> const ParamSet& { return SequentialModel::params(kind); },
          [kind](const nlohmann::json& c) -> std::unique_ptr<models::Model> {
            return std::make_unique<SequentialModel>(kind, c);
          });
    }
    models::register_model(
        "lightgcn", &LightGcnModel::params,
        [](const nlohmann::json& c) -> std::unique_ptr<models::Model> { return std::make_unique<LightGcnModel>(c); });
  });
}

void set_threads(int threads) { torch::set_num_threads(std::max(1, threads)); }

}  // namespace driftrec::nn
