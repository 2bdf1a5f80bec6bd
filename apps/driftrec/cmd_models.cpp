// driftrec models: the registered models and their parameters.
#include <iostream>

#include "commands.h"
#include "driftrec/models/registry.h"

namespace driftrec::cli {

Runner add_models(CLI::App& app, const GlobalFlags&) {
  auto name = std::make_shared<std::string>();
  app.add_option("name", *name, "show one model's parameters");
  return [name]() {
    for (const auto& n : models::model_names()) {
      if (!name->empty() && n != *name) continue;
      std::cout << n << "\n" << models::model_params(n).describe();
    }
    if (!name->empty()) models::model_params(*name);  // throws NotFound for an unknown name
    return 0;
  };
}

}  // namespace driftrec::cli
