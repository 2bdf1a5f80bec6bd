#include "driftrec/nn/register.h"

#include <mutex>

#include "driftrec/models/registry.h"
#include "driftrec/nn/sasrec.h"

namespace driftrec::nn {

void register_neural_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    models::register_model("sasrec", &SasRecModel::params,
                           [](const nlohmann::json& c) -> std::unique_ptr<models::Model> { return std::make_unique<SasRecModel>(c); });
  });
}

}  // namespace driftrec::nn
