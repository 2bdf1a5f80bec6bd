#include "driftrec/models/registry.h"

#include <functional>

#include "driftrec/core/error.h"
#include "driftrec/models/classic.h"
#include "driftrec/models/ease.h"
#include "driftrec/models/ensemble.h"
#include "driftrec/models/gfcf.h"

namespace driftrec::models {

namespace {
struct Entry {
  std::string name;
  ParamsFn params;
  std::function<std::unique_ptr<Model>(const nlohmann::json&)> make;
};

// Built-in models, then registered ones. Registration happens at start-up, before any lookup
// from other threads (the CLI and tests register first), so reads need no lock.
std::vector<Entry>& entries() {
  static std::vector<Entry> e = {
      {"pop", &PopularityModel::params, [](const nlohmann::json& c) { return std::make_unique<PopularityModel>(c); }},
      {"itemknn", &ItemKnnModel::params, [](const nlohmann::json& c) { return std::make_unique<ItemKnnModel>(c); }},
      {"bpr", &BprModel::params, [](const nlohmann::json& c) { return std::make_unique<BprModel>(c); }},
      {"ials", &IalsModel::params, [](const nlohmann::json& c) { return std::make_unique<IalsModel>(c); }},
      {"ease", &EaseModel::params, [](const nlohmann::json& c) { return std::make_unique<EaseModel>(c); }},
      {"gfcf", &GfcfModel::params, [](const nlohmann::json& c) { return std::make_unique<GfcfModel>(c); }},
      {"ensemble", &EnsembleModel::params, [](const nlohmann::json& c) { return std::make_unique<EnsembleModel>(c); }},
  };
  return e;
}

const Entry& find(const std::string& name) {
  for (const auto& e : entries())
    if (e.name == name) return e;
  std::string known;
  for (const auto& e : entries()) known += (known.empty() ? "" : ", ") + e.name;
  throw NotFound("unknown model '" + name + "' (known: " + known + ")");
}
}  // namespace

void register_model(const std::string& name, ParamsFn params, ModelFactory factory) {
  for (const auto& e : entries())
    if (e.name == name) throw InvalidInput("a model named '" + name + "' is already registered");
  entries().push_back({name, params, factory});
}

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& e : entries()) out.push_back(e.name);
  return out;
}

const ParamSet& model_params(const std::string& name) { return find(name).params(); }

std::unique_ptr<Model> create_model(const std::string& name, const nlohmann::json& config) {
  return find(name).make(config);
}

}  // namespace driftrec::models
