// driftrec.compare, driftrec.tune, driftrec.report: one library workflow each.
#include <pybind11/stl.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/report/html_report.h"
#include "driftrec/workflow/compare.h"
#include "driftrec/workflow/tune.h"

namespace driftrec::py {

namespace {

using pyb::arg;

// Models given from Python on a Dataset (compare, report): their LoadedModels, their labels
// (directory, else name#index) and the data.
struct ModelsOnData {
  DataArg d;
  std::vector<const models::LoadedModel*> ptrs;
  std::vector<std::string> names;
  /// The models' common recorded split of the data (call without the GIL).
  workflow::CommonSplit common(const std::string& on) const {
    return workflow::common_split(
        ptrs, names, [this] { return *d.data; }, on);
  }
};

ModelsOnData models_on_data(const pyb::list& list, const pyb::object& labels, const pyb::object& data,
                            const std::string& what) {
  ModelsOnData out;
  out.d = data_arg(data);
  if (out.d.options) throw InvalidInput(what + " uses the split recorded with the models; pass a Dataset, not a Split");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& m = list[i].cast<const PyModel&>();
    out.ptrs.push_back(m.loaded.get());
    out.names.push_back(!m.source_dir.empty() ? m.source_dir : m.loaded->model->name() + "#" + std::to_string(i));
  }
  if (!labels.is_none()) out.names = id_list(labels, "labels");
  return out;
}

// compare's rerank=: None (none), one spec for every model, or a sequence with one spec (or None) per model.
std::vector<std::string> rerank_specs(const pyb::object& rerank) {
  if (rerank.is_none()) return {};
  if (pyb::isinstance<pyb::str>(rerank)) return {rerank.cast<std::string>()};
  if (!pyb::hasattr(rerank, "__iter__")) throw InvalidInput("rerank: expected a spec, a list of specs or None");
  std::vector<std::string> out;
  for (auto v : rerank) {
    if (!v.is_none() && !pyb::isinstance<pyb::str>(v)) throw InvalidInput("rerank: each entry must be a spec or None");
    out.push_back(v.is_none() ? std::string() : v.cast<std::string>());
  }
  return out;
}

pyb::dict compare_py(const pyb::list& models_arg, const pyb::object& data, const std::string& split,
                     const std::vector<std::string>& metrics, int resamples, std::uint64_t seed, double alpha,
                     int threads, const pyb::object& labels, const pyb::object& progress, const pyb::object& rerank,
                     std::size_t rerank_depth, const std::string& long_tail_items, const std::string& active_users,
                     const std::string& protocol, const std::string& replay_start, bool skip_repeats,
                     const std::string& truth, bool request_time, const std::string& request_at, bool include_seen) {
  const auto m = models_on_data(models_arg, labels, data, "compare");
  workflow::CompareOptions o;
  o.no_request_time = !request_time;
  o.request_at = request_at;
  o.include_seen = include_seen;
  o.protocol = protocol;
  o.replay_start = replay_start;
  o.skip_repeats = skip_repeats;
  o.truth = truth;
  o.rerank = rerank_specs(rerank);
  o.rerank_depth = rerank_depth;
  o.groups.long_tail_file = long_tail_items;
  o.groups.active_file = active_users;
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
    res = workflow::compare(m.ptrs, m.names, m.common(split), o);
  }
  res.report["means"] = nlohmann::json::array();
  for (const auto& m : res.means) res.report["means"].push_back(m);
  return to_python(res.report).cast<pyb::dict>();
}

std::string report_py(const pyb::list& model_list_arg, const pyb::object& data, const std::string& out,
                      const std::string& split, const std::string& title, const std::vector<std::string>& users,
                      int sample_users, int resamples, const std::string& truth, int threads, const pyb::object& labels,
                      const pyb::object& progress, bool fairness, const std::string& rerank, std::size_t rerank_depth,
                      const std::string& long_tail_items, const std::string& active_users,
                      const std::string& request_at) {
  const auto m = models_on_data(model_list_arg, labels, data, "report");
  report::ReportOptions o;
  o.on = split;
  o.title = title;
  o.data_name = m.d.data->name;
  o.users = users;
  o.sample_users = sample_users;
  o.resamples = resamples;
  o.truth = truth;
  o.threads = threads;
  o.request_at = request_at;
  o.progress = progress_callback(progress);
  o.fairness = fairness;
  o.rerank = rerank;
  o.rerank_depth = rerank_depth;
  o.groups.long_tail_file = long_tail_items;
  o.groups.active_file = active_users;
  std::string html;
  {
    pyb::gil_scoped_release nogil;
    html = report::html_report(m.ptrs, m.names, m.common(split), o);
    if (!out.empty()) {
      std::ofstream f(out, std::ios::binary);
      if (!f || !(f << html) || !f.flush()) throw IoError(out + ": cannot write the report");
    }
  }
  return html;
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
                  const pyb::object& on_trial, const std::string& request_at) {
  const auto d = data_arg(data);
  auto space = pyb::isinstance<pyb::str>(space_arg) ? tune::SearchSpace::from_file(space_arg.cast<std::string>())
                                                    : tune::SearchSpace::from_json(from_python(space_arg, "space"));
  workflow::override_space(space, model, objective, request_at);
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
    finished = [holder = hold(on_trial)](const tune::Trial& t) {
      pyb::gil_scoped_acquire gil;
      (*holder)(to_python(trial_json(t)));
    };
  }
  // A temporary study goes with its SQLite side files, however the search ends.
  auto remove_db = [&] {
    if (temporary)
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  };
  workflow::TuneResult res;
  try {
    pyb::gil_scoped_release nogil;
    res = workflow::tune_model(*d.data, d.options.value_or(data::PrepareOptions{}), space, base, o, path, threads,
                               finished);
  } catch (...) {
    remove_db();
    throw;
  }
  remove_db();
  nlohmann::json out = {{"model", space.model}, {"objective", space.objective}, {"trials", nlohmann::json::array()}};
  for (const auto& t : res.trials) out["trials"].push_back(trial_json(t));
  out["best"] = res.best ? trial_json(*res.best) : nlohmann::json();
  if (res.best) out["best"]["config"] = res.best_config;
  return to_python(out).cast<pyb::dict>();
}

}  // namespace

void bind_analysis(pyb::module_& m) {
  m.def("compare", &compare_py, arg("models"), arg("data"), arg("split") = "test",
        arg("metrics") = std::vector<std::string>{"hr@10", "ndcg@10", "mrr"}, arg("resamples") = 1000, arg("seed") = 42,
        arg("alpha") = 0.05, arg("threads") = 0, arg("labels") = pyb::none(), arg("progress") = false,
        arg("rerank") = pyb::none(), arg("rerank_depth") = 100, arg("long_tail_items") = "", arg("active_users") = "",
        arg("protocol") = "split", arg("replay_start") = "", arg("skip_repeats") = false, arg("truth") = "",
        arg("request_time") = true, arg("request_at") = "none", arg("include_seen") = false);
  m.def("tune", &tune_py, arg("data"), arg("space"), arg("model") = "", arg("objective") = "", arg("trials") = 20,
        arg("minutes") = 0.0, arg("strategy") = "tpe", arg("config") = pyb::none(), arg("seed") = 42, arg("db") = "",
        arg("threads") = 0, arg("early_abandon") = true, arg("on_trial") = pyb::none(), arg("request_at") = "");
  m.def("report", &report_py, arg("models"), arg("data"), arg("out") = "", arg("split") = "test",
        arg("title") = "DriftRec report", arg("users") = std::vector<std::string>{}, arg("sample_users") = 2,
        arg("resamples") = 500, arg("truth") = "", arg("threads") = 0, arg("labels") = pyb::none(),
        arg("progress") = false, arg("fairness") = false, arg("rerank") = "", arg("rerank_depth") = 100,
        arg("long_tail_items") = "", arg("active_users") = "", arg("request_at") = "none");
}

}  // namespace driftrec::py
