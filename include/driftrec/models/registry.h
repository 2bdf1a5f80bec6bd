#pragma once
// Model registry: names -> declared parameters and factories.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

/// Registered model names, in a stable order.
std::vector<std::string> model_names();
/// Declared parameters of a model; throws NotFound listing the known names.
const ParamSet& model_params(const std::string& name);
/// A new, unfitted model with `config` layered over the defaults (validated).
std::unique_ptr<Model> create_model(const std::string& name, const nlohmann::json& config = nlohmann::json::object());

using ModelFactory = std::function<std::unique_ptr<Model>(const nlohmann::json& config)>;
using ParamsFn = std::function<const ParamSet&()>;
/// Adds a model to the registry (libraries outside driftrec_core, such as the LibTorch models,
/// register theirs at start-up; see nn/register.h). Throws InvalidInput for a duplicate name.
void register_model(const std::string& name, ParamsFn params, ModelFactory factory);

}  // namespace driftrec::models
