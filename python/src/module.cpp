// The extension module driftrec._driftrec (the package driftrec re-exports it; see
// python/driftrec/__init__.py and docs/python.md).
#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/federated/federated_model.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

namespace driftrec::py {

namespace {

void set_log_level_py(const std::string& level) {
  static const std::map<std::string, LogLevel> levels = {{"debug", LogLevel::kDebug},
                                                         {"info", LogLevel::kInfo},
                                                         {"warn", LogLevel::kWarn},
                                                         {"error", LogLevel::kError},
                                                         {"off", LogLevel::kOff}};
  const auto it = levels.find(level);
  if (it == levels.end()) throw InvalidInput("log level must be debug, info, warn, error or off, not '" + level + "'");
  set_log_level(it->second);
}

}  // namespace

}  // namespace driftrec::py

PYBIND11_MODULE(_driftrec, m) {
  namespace py = driftrec::py;
  m.doc() = "DriftRec: recommendation from the sequence of what users do (C++ library binding)";
  m.attr("__version__") = DRIFTREC_VERSION;
  driftrec::nn::register_neural_models();
  driftrec::fed::register_federated_models();
  py::register_errors(m);
  py::bind_data(m);
  py::bind_model(m);
  py::bind_workflows(m);
  py::bind_analysis(m);
  py::bind_loop(m);
  m.def("models", &driftrec::models::model_names, "Names of the models driftrec.train accepts.");
  m.def(
      "model_params", [](const std::string& name) { return driftrec::models::model_params(name).describe(); },
      pybind11::arg("name"), "A model's parameters with their defaults and meaning.");
  m.def("set_threads", &driftrec::nn::set_threads, pybind11::arg("threads"),
        "LibTorch's threads for inference (training takes threads= per call).");
  m.def("set_log_level", &py::set_log_level_py, pybind11::arg("level"), "debug, info, warn (default), error or off.");
  driftrec::set_log_level(driftrec::LogLevel::kWarn);
}
