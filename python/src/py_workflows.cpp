// driftrec.train, driftrec.refit, driftrec.load, driftrec.evaluate: one library workflow each.
#include <pybind11/stl.h>

#include <algorithm>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/train.h"

namespace driftrec::py {

namespace {

using pyb::arg;

train::EpochCallback epoch_callback(const pyb::object& on_epoch) {
  if (on_epoch.is_none()) return {};
  if (PyCallable_Check(on_epoch.ptr()) == 0) throw InvalidInput("on_epoch must be a callable f(record: dict)");
  return [holder = hold(on_epoch)](const train::EpochRecord& r) {
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

// A model trained in this process, with the users' histories from `histories`.
PyModel from_trained(workflow::TrainedModel t, const data::Dataset& histories) {
  auto m = wrap(std::make_shared<const models::LoadedModel>(std::move(t.loaded)));
  m.train = std::make_shared<const data::Dataset>(std::move(t.train));
  m.history = std::move(t.history);
  pyb::gil_scoped_release nogil;
  m.recommender->set_histories(histories);
  return m;
}

PyModel run_training(workflow::TrainOptions o, const DataArg& d) {
  workflow::TrainedModel t;
  {
    pyb::gil_scoped_release nogil;
    t = workflow::train_model(*d.data, std::move(o));
  }
  return from_trained(std::move(t), *d.data);
}

PyModel train_py(const std::string& model, const pyb::object& data, const pyb::object& config, std::uint64_t seed,
                 bool validate, bool include_seen, int threads, const pyb::object& progress,
                 const pyb::object& on_epoch, const std::string& checkpoint_dir, bool resume,
                 const std::string& objective, double time_budget, bool skip_repeats, const std::string& request_at) {
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
  o.objective = objective;
  o.time_budget_s = time_budget;
  o.skip_repeats = skip_repeats;
  o.request_at = request_at;
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

PyModel ensemble_py(const pyb::list& members, const pyb::object& data, const pyb::object& weights,
                    const std::string& weights_from, const pyb::object& config, int threads,
                    const pyb::object& progress, const std::string& objective, bool skip_repeats,
                    const std::string& request_at) {
  const auto d = data_arg(data);
  workflow::EnsembleOptions o;
  o.objective = objective;
  o.skip_repeats = skip_repeats;
  o.request_at = request_at;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (pyb::isinstance<pyb::str>(members[i])) {
      o.members.push_back(members[i].cast<std::string>());
      continue;
    }
    const auto& m = members[i].cast<const PyModel&>();
    if (m.source_dir.empty())
      throw InvalidInput("ensemble: member " + std::to_string(i) +
                         " was trained in this process; save() it and pass the loaded model or its directory");
    o.members.push_back(m.source_dir);
  }
  if (!weights.is_none()) o.weights = weights.cast<std::vector<double>>();
  o.weights_from = weights_from;
  if (!config.is_none()) o.config = from_python(config, "config");
  if (d.options) o.prepare = *d.options;
  o.threads = threads;
  o.progress = progress_callback(progress);
  workflow::TrainedModel t;
  {
    pyb::gil_scoped_release nogil;
    t = workflow::build_ensemble(*d.data, std::move(o));
  }
  return from_trained(std::move(t), *d.data);
}

pyb::dict replay_py(const PyModel& model, const DataArg& d, const std::string& on, int k, const std::string& start,
                    int windows, bool include_seen, bool skip_repeats, const std::string& truth, int threads,
                    const pyb::object& progress, const std::string& rerank, std::size_t rerank_depth,
                    const workflow::GroupOptions& groups, bool fairness, bool request_time) {
  workflow::ReplayRequest q;
  q.no_request_time = !request_time;
  q.fairness = fairness;
  q.rerank = rerank;
  q.rerank_depth = rerank_depth;
  q.groups = groups;
  q.on = on;
  q.start = start;
  q.k = k;
  q.windows = windows;
  q.include_seen = include_seen;
  q.skip_repeats = skip_repeats;
  q.truth = truth;
  q.threads = threads;
  q.prepare = d.options;
  q.data_name = d.data->name;
  q.model_dir = model.source_dir;
  q.progress = progress_callback(progress);
  workflow::Replay rep;
  {
    pyb::gil_scoped_release nogil;
    rep = workflow::replay(*model.loaded, *d.data, q);
  }
  return to_python(rep.report).cast<pyb::dict>();
}

pyb::dict evaluate_py(const PyModel& model, const pyb::object& data, const std::string& split,
                      const std::vector<int>& k, const std::vector<std::string>& metrics, bool include_seen,
                      int impressions, int threads, const pyb::object& progress, const std::string& protocol,
                      const std::string& replay_start, int windows, bool skip_repeats, const std::string& truth,
                      bool fairness, const std::string& rerank, std::size_t rerank_depth,
                      const std::string& long_tail_items, const std::string& active_users, bool request_time,
                      const std::string& request_at) {
  const auto d = data_arg(data);
  workflow::GroupOptions groups;
  groups.long_tail_file = long_tail_items;
  groups.active_file = active_users;
  if (protocol != "split" && protocol != "replay")
    throw InvalidInput("protocol must be 'split' or 'replay', not '" + protocol + "'");
  workflow::check_request_switches("", protocol, request_at, !request_time);
  if (protocol == "replay") {
    return replay_py(model, d, split, workflow::headline_k(k), replay_start, windows, include_seen, skip_repeats, truth,
                     threads, progress, rerank, rerank_depth, groups, fairness, request_time);
  }
  workflow::EvaluateOptions o;
  o.request_at = request_at;
  o.on = split;
  o.ks = k;
  o.include_seen = include_seen;
  o.skip_repeats = skip_repeats;
  o.impressions = impressions;
  o.threads = threads;
  o.prepare = d.options;
  o.truth = truth;
  o.data_name = d.data->name;
  o.model_dir = model.source_dir;
  o.progress = progress_callback(progress);
  o.fairness = fairness;
  o.rerank = rerank;
  o.rerank_depth = rerank_depth;
  o.groups = groups;
  workflow::Evaluation ev;
  {
    pyb::gil_scoped_release nogil;
    ev = workflow::evaluate(*model.loaded, *d.data, o);
  }
  keep_metrics(ev.report["metrics"], metrics);
  return to_python(ev.report).cast<pyb::dict>();
}

}  // namespace

void bind_workflows(pyb::module_& m) {
  m.def("train", &train_py, arg("model"), arg("data"), arg("config") = pyb::none(), arg("seed") = 42,
        arg("validate") = true, arg("include_seen") = false, arg("threads") = 0, arg("progress") = true,
        arg("on_epoch") = pyb::none(), arg("checkpoint_dir") = "", arg("resume") = false, arg("objective") = "ndcg@10",
        arg("time_budget") = 0.0, arg("skip_repeats") = false, arg("request_at") = "none");
  m.def("refit", &refit_py, arg("model_dir"), arg("data"), arg("config") = pyb::none(), arg("seed") = pyb::none(),
        arg("threads") = 0, arg("progress") = true);
  m.def("ensemble", &ensemble_py, arg("members"), arg("data"), arg("weights") = pyb::none(), arg("weights_from") = "",
        arg("config") = pyb::none(), arg("threads") = 0, arg("progress") = false, arg("objective") = "ndcg@10",
        arg("skip_repeats") = false, arg("request_at") = "none");
  m.def("load", &load_py, arg("dir"), arg("data") = pyb::none());
  m.def("evaluate", &evaluate_py, arg("model"), arg("data"), arg("split") = "test", arg("k") = std::vector<int>{10, 20},
        arg("metrics") = std::vector<std::string>{}, arg("include_seen") = false, arg("impressions") = 0,
        arg("threads") = 0, arg("progress") = false, arg("protocol") = "split", arg("replay_start") = "",
        arg("windows") = 10, arg("skip_repeats") = false, arg("truth") = "", arg("fairness") = false,
        arg("rerank") = "", arg("rerank_depth") = 100, arg("long_tail_items") = "", arg("active_users") = "",
        arg("request_time") = true, arg("request_at") = "none");
}

}  // namespace driftrec::py
