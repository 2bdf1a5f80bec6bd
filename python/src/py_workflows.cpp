// driftrec.train, driftrec.refit, driftrec.load, driftrec.evaluate: one library workflow each.
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/workflow/compare.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/train.h"
#include "driftrec/workflow/tune.h"

namespace driftrec::py {

namespace {

using pyb::arg;

// A Dataset or a Split: the data and the preprocessing to use (none for a plain Dataset).
struct DataArg {
  std::shared_ptr<const data::Dataset> data;
  std::optional<data::PrepareOptions> options;
};

DataArg data_arg(const pyb::object& o) {
  if (pyb::isinstance<PySplit>(o)) {
    const auto& s = o.cast<const PySplit&>();
    return {s.data, s.options};
  }
  if (pyb::isinstance<PyDataset>(o)) return {o.cast<const PyDataset&>().data, std::nullopt};
  throw InvalidInput("data must be a driftrec.Dataset or a driftrec.Split");
}

train::EpochCallback epoch_callback(const pyb::object& on_epoch) {
  if (on_epoch.is_none()) return {};
  if (PyCallable_Check(on_epoch.ptr()) == 0) throw InvalidInput("on_epoch must be a callable f(record: dict)");
  auto holder = std::shared_ptr<pyb::object>(new pyb::object(on_epoch), [](pyb::object* o) {
    pyb::gil_scoped_acquire gil;
    delete o;
  });
  return [holder](const train::EpochRecord& r) {
    pyb::gil_scoped_acquire gil;
    (*holder)(to_python(r.to_json()));
  };
}

PyModel wrap(std::shared_ptr<const models::LoadedModel> loaded) {
  PyModel m;
  m.loaded = std::move(loaded);
  m.recommender = std::make_unique<workflow::Recommender>(m.loaded);
  return m;
}

PyModel run_training(workflow::TrainOptions o, const DataArg& d) {
  workflow::TrainedModel t;
  {
    pyb::gil_scoped_release nogil;
    t = workflow::train_model(*d.data, std::move(o));
  }
  auto m = wrap(std::make_shared<const models::LoadedModel>(std::move(t.loaded)));
  m.train = std::make_shared<const data::Dataset>(std::move(t.train));
  m.history = std::move(t.history);
  pyb::gil_scoped_release nogil;
  m.recommender->set_histories(*d.data);
  return m;
}

PyModel train_py(const std::string& model, const pyb::object& data, const pyb::object& config, std::uint64_t seed,
                 bool validate, bool include_seen, int threads, const pyb::object& progress,
                 const pyb::object& on_epoch, const std::string& checkpoint_dir, bool resume) {
  const auto d = data_arg(data);
  workflow::TrainOptions o;
  o.model = model;
  if (!config.is_none()) o.config = from_python(config, "config");
  if (!o.config.is_object()) throw InvalidInput("config must be a dict of parameters");
  if (d.options) o.prepare = *d.options;
  o.seed = seed;
  o.validate = validate;
  o.include_seen = include_seen;
  o.threads = threads;
  o.progress = progress_callback(progress);
  o.on_epoch = epoch_callback(on_epoch);
  o.checkpoint_dir = checkpoint_dir;
  o.resume = resume;
  return run_training(std::move(o), d);
}

PyModel refit_py(const std::string& model_dir, const pyb::object& data, const pyb::object& config,
                 const std::optional<std::uint64_t>& seed, int threads, const pyb::object& progress) {
  const auto d = data_arg(data);
  if (d.options) throw InvalidInput("refit uses the split recorded in " + model_dir + "; pass a Dataset, not a Split");
  workflow::TrainOptions o;
  o.refit_from = model_dir;
  if (!config.is_none()) o.config = from_python(config, "config");
  o.seed = seed;
  o.threads = threads;
  o.progress = progress_callback(progress);
  return run_training(std::move(o), d);
}

PyModel load_py(const std::string& dir, const pyb::object& data) {
  std::shared_ptr<const models::LoadedModel> loaded;
  {
    pyb::gil_scoped_release nogil;
    loaded = std::make_shared<const models::LoadedModel>(models::load_model_dir(dir));
  }
  auto m = wrap(std::move(loaded));
  m.source_dir = dir;
  if (!data.is_none()) {
    const auto d = data_arg(data);
    pyb::gil_scoped_release nogil;
    m.recommender->set_histories(*d.data);
  }
  return m;
}

// Keeps the metrics whose name is in `wanted` or starts with "<wanted>@" ("ndcg" -> ndcg@10, ndcg@20).
void keep_metrics(nlohmann::json& metrics, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return;
  nlohmann::json kept = nlohmann::json::object();
  for (const auto& w : wanted) {
    bool found = false;
    for (auto it = metrics.begin(); it != metrics.end(); ++it)
      if (it.key() == w || it.key().rfind(w + "@", 0) == 0) {
        kept[it.key()] = it.value();
        found = true;
      }
    if (!found) {
      std::string known;
      for (auto it = metrics.begin(); it != metrics.end(); ++it) known += (known.empty() ? "" : ", ") + it.key();
      throw InvalidInput("metrics: '" + w + "' is not computed (known: " + known + ")");
    }
  }
  metrics = std::move(kept);
}

pyb::dict evaluate_py(const PyModel& model, const pyb::object& data, const std::string& split,
                      const std::vector<int>& k, const std::vector<std::string>& metrics, bool include_seen,
                      int impressions, int threads, const pyb::object& progress) {
  const auto d = data_arg(data);
  workflow::EvaluateOptions o;
  o.on = split;
  o.ks = k;
  o.include_seen = include_seen;
  o.impressions = impressions;
  o.threads = threads;
  o.prepare = d.options;
  o.data_name = d.data->name;
  o.model_dir = model.source_dir;
  o.progress = progress_callback(progress);
  workflow::Evaluation ev;
  {
    pyb::gil_scoped_release nogil;
    ev = workflow::evaluate(*model.loaded, *d.data, o);
  }
  keep_metrics(ev.report["metrics"], metrics);
  return to_python(ev.report).cast<pyb::dict>();
}

pyb::dict compare_py(const pyb::list& model_list, const pyb::object& data, const std::string& split,
                     const std::vector<std::string>& metrics, int resamples, std::uint64_t seed, double alpha,
                     int threads, const pyb::object& labels, const pyb::object& progress) {
  const auto d = data_arg(data);
  if (d.options) throw InvalidInput("compare uses the split recorded with the models; pass a Dataset, not a Split");
  std::vector<const models::LoadedModel*> ptrs;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < model_list.size(); ++i) {
    const auto& m = model_list[i].cast<const PyModel&>();
    ptrs.push_back(m.loaded.get());
    names.push_back(!m.source_dir.empty() ? m.source_dir : m.loaded->model->name() + "#" + std::to_string(i));
  }
  if (!labels.is_none()) names = id_list(labels, "labels");
  workflow::CompareOptions o;
  o.on = split;
  o.metrics = metrics;
  o.resamples = resamples;
  o.seed = seed;
  o.alpha = alpha;
  o.threads = threads;
  o.progress = progress_callback(progress);
  workflow::Comparison res;
  {
    pyb::gil_scoped_release nogil;
    const auto common = workflow::common_split(
        ptrs, names, [&d] { return *d.data; }, split);
    res = workflow::compare(ptrs, names, common, o);
  }
  res.report["means"] = nlohmann::json::array();
  for (const auto& m : res.means) res.report["means"].push_back(m);
  return to_python(res.report).cast<pyb::dict>();
}

nlohmann::json trial_json(const tune::Trial& t) {
  nlohmann::json j = {{"id", t.id},
                      {"status", tune::to_string(t.status)},
                      {"params", t.params},
                      {"seconds", t.seconds},
                      {"intermediate", t.intermediate}};
  j["value"] = t.value ? nlohmann::json(*t.value) : nlohmann::json();
  if (!t.message.empty()) j["message"] = t.message;
  return j;
}

pyb::dict tune_py(const pyb::object& data, const pyb::object& space_arg, const std::string& model,
                  const std::string& objective, std::int64_t trials, double minutes, const std::string& strategy,
                  const pyb::object& config, std::uint64_t seed, const std::string& db, int threads, bool early_abandon,
                  const pyb::object& on_trial) {
  const auto d = data_arg(data);
  auto space = pyb::isinstance<pyb::str>(space_arg) ? tune::SearchSpace::from_file(space_arg.cast<std::string>())
                                                    : tune::SearchSpace::from_json(from_python(space_arg, "space"));
  if (!model.empty()) {
    if (!space.model.empty() && space.model != model)
      throw InvalidInput("model " + model + " differs from the space's model '" + space.model + "'");
    space.model = model;
  }
  if (!objective.empty()) space.objective = objective;
  tune::TuneOptions o;
  o.trials = trials;
  o.minutes = minutes;
  o.sampler.strategy = strategy;
  o.seed = seed;
  o.early_abandon = early_abandon;
  const auto base = config.is_none() ? nlohmann::json::object() : from_python(config, "config");
  // Without a db the trials go to a temporary file, removed afterwards.
  namespace fs = std::filesystem;
  const bool temporary = db.empty();
  const auto path = temporary
                        ? (fs::temp_directory_path() /
                           ("driftrec-tune-" +
                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".sqlite"))
                              .string()
                        : db;
  std::function<void(const tune::Trial&)> finished;
  if (!on_trial.is_none()) {
    auto holder = std::shared_ptr<pyb::object>(new pyb::object(on_trial), [](pyb::object* x) {
      pyb::gil_scoped_acquire gil;
      delete x;
    });
    finished = [holder](const tune::Trial& t) {
      pyb::gil_scoped_acquire gil;
      (*holder)(to_python(trial_json(t)));
    };
  }
  workflow::TuneResult res;
  try {
    pyb::gil_scoped_release nogil;
    res = workflow::tune_model(*d.data, d.options.value_or(data::PrepareOptions{}), space, base, o, path, threads,
                               finished);
  } catch (...) {
    if (temporary) fs::remove(path);
    throw;
  }
  if (temporary)
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  nlohmann::json out = {{"model", space.model}, {"objective", space.objective}, {"trials", nlohmann::json::array()}};
  for (const auto& t : res.trials) out["trials"].push_back(trial_json(t));
  out["best"] = res.best ? trial_json(*res.best) : nlohmann::json();
  if (res.best) out["best"]["config"] = res.best_config;
  return to_python(out).cast<pyb::dict>();
}

}  // namespace

void bind_workflows(pyb::module_& m) {
  m.def("train", &train_py, arg("model"), arg("data"), arg("config") = pyb::none(), arg("seed") = 42,
        arg("validate") = true, arg("include_seen") = false, arg("threads") = 0, arg("progress") = true,
        arg("on_epoch") = pyb::none(), arg("checkpoint_dir") = "", arg("resume") = false);
  m.def("refit", &refit_py, arg("model_dir"), arg("data"), arg("config") = pyb::none(), arg("seed") = pyb::none(),
        arg("threads") = 0, arg("progress") = true);
  m.def("load", &load_py, arg("dir"), arg("data") = pyb::none());
  m.def("evaluate", &evaluate_py, arg("model"), arg("data"), arg("split") = "test", arg("k") = std::vector<int>{10, 20},
        arg("metrics") = std::vector<std::string>{}, arg("include_seen") = false, arg("impressions") = 0,
        arg("threads") = 0, arg("progress") = false);
  m.def("compare", &compare_py, arg("models"), arg("data"), arg("split") = "test",
        arg("metrics") = std::vector<std::string>{"hr@10", "ndcg@10", "mrr"}, arg("resamples") = 1000, arg("seed") = 42,
        arg("alpha") = 0.05, arg("threads") = 0, arg("labels") = pyb::none(), arg("progress") = false);
  m.def("tune", &tune_py, arg("data"), arg("space"), arg("model") = "", arg("objective") = "", arg("trials") = 20,
        arg("minutes") = 0.0, arg("strategy") = "tpe", arg("config") = pyb::none(), arg("seed") = 42, arg("db") = "",
        arg("threads") = 0, arg("early_abandon") = true, arg("on_trial") = pyb::none());
}

}  // namespace driftrec::py
