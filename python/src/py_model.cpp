// driftrec.Model: recommend, observe, explain, similar items, embeddings, save.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <filesystem>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"

namespace driftrec::py {

namespace {

using pyb::arg;

workflow::Recommender& rec(PyModel& m) { return *m.recommender; }

workflow::RecommendQuery query(std::size_t k, bool filter_already_liked, const pyb::object& items,
                               const pyb::object& exclude, const std::string& rerank, std::size_t rerank_depth,
                               std::optional<std::int64_t> at = std::nullopt) {
  workflow::RecommendQuery q;
  q.at = at;
  q.k = k;
  q.rerank = rerank;
  q.rerank_depth = rerank_depth;
  q.exclude_seen = filter_already_liked;
  if (!items.is_none()) q.candidates = id_list(items, "items");
  if (!exclude.is_none()) q.exclude = id_list(exclude, "exclude");
  return q;
}

pyb::tuple recommend(PyModel& m, const pyb::object& users, std::size_t k, bool filter_already_liked,
                     const pyb::object& items, const pyb::object& exclude, const std::string& rerank,
                     std::size_t rerank_depth, std::optional<std::int64_t> at) {
  bool one = false;
  const auto ids = id_list(users, "user_ids", &one);
  const auto q = query(k, filter_already_liked, items, exclude, rerank, rerank_depth, at);
  std::vector<TopK> rows;
  {
    pyb::gil_scoped_release nogil;
    rows = rec(m).recommend(ids, q);
  }
  const auto& loaded = *m.loaded;
  return topk_arrays(rows, k, one, [&loaded](std::int32_t i) -> const std::string& { return loaded.items.name(i); });
}

// The C++ call alone, timed inside C++ (bench/python_overhead.py compares it with recommend()).
double recommend_cpp_seconds(PyModel& m, const std::vector<std::string>& users, std::size_t k) {
  pyb::gil_scoped_release nogil;
  workflow::RecommendQuery q;
  q.k = k;
  const auto t0 = std::chrono::steady_clock::now();
  const auto rows = rec(m).recommend(users, q);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

pyb::tuple recommend_history(PyModel& m, const pyb::object& histories, std::size_t k, bool filter_already_liked,
                             const pyb::object& items, const pyb::object& exclude, const std::string& rerank,
                             std::size_t rerank_depth) {
  std::vector<std::vector<std::string>> sessions;
  bool one = false;
  // One session (a list of item ids) or a list of sessions.
  if (pyb::isinstance<pyb::str>(histories)) throw InvalidInput("histories: expected a list of item ids or of lists");
  pyb::list all;
  for (auto h : histories) all.append(h);
  one = all.size() > 0 && pyb::isinstance<pyb::str>(all[0]);
  if (one)
    sessions.push_back(id_list(all, "histories"));
  else
    for (auto h : all) sessions.push_back(id_list(h, "histories[i]"));
  const auto q = query(k, filter_already_liked, items, exclude, rerank, rerank_depth);
  std::vector<TopK> rows;
  {
    pyb::gil_scoped_release nogil;
    rows = rec(m).recommend_sessions(sessions, q);
  }
  const auto& loaded = *m.loaded;
  return topk_arrays(rows, k, one, [&loaded](std::int32_t i) -> const std::string& { return loaded.items.name(i); });
}

pyb::list explain(PyModel& m, const std::string& user, const std::string& item) {
  std::vector<workflow::Because> because;
  {
    pyb::gil_scoped_release nogil;
    because = rec(m).explain(user, item);
  }
  pyb::list out;
  for (const auto& b : because) {
    pyb::dict d;
    d["item"] = b.item;
    d["ts"] = b.ts;
    d["behavior"] = b.behavior;
    d["weight"] = b.weight;
    out.append(d);
  }
  return out;
}

pyb::tuple similar_items(PyModel& m, const std::string& item, std::size_t k) {
  TopK top;
  {
    pyb::gil_scoped_release nogil;
    top = rec(m).similar(item, k);
  }
  const auto& loaded = *m.loaded;
  return topk_arrays({top}, k, true, [&loaded](std::int32_t i) -> const std::string& { return loaded.items.name(i); });
}

// A read-only numpy view of the model's item matrix (row 0 is padding), kept alive by the Model.
pyb::object item_embeddings(pyb::object self) {
  auto& m = self.cast<PyModel&>();
  int dim = 0;
  const float* p = m.loaded->model->item_embeddings(&dim);
  if (!p) return pyb::none();
  const auto rows = static_cast<pyb::ssize_t>(m.loaded->model->n_items());
  pyb::array_t<float> view({rows, static_cast<pyb::ssize_t>(dim)},
                           {static_cast<pyb::ssize_t>(dim * sizeof(float)), static_cast<pyb::ssize_t>(sizeof(float))},
                           p, self);
  pyb::detail::array_proxy(view.ptr())->flags &= ~pyb::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return std::move(view);
}

void save(PyModel& m, const std::string& dir) {
  pyb::gil_scoped_release nogil;
  if (m.train) {
    models::save_model_dir(dir, *m.loaded->model, *m.train, m.loaded->meta);
    return;
  }
  // A loaded model: its directory is copied (the same files, checked again on load).
  namespace fs = std::filesystem;
  if (fs::weakly_canonical(dir) == fs::weakly_canonical(m.source_dir)) return;
  models::copy_model_dir(m.source_dir, dir);
}

std::vector<std::string> item_ids(const PyModel& m) {
  std::vector<std::string> out;
  for (std::int32_t i = 1; i < m.loaded->model->n_items(); ++i) out.push_back(m.loaded->items.name(i));
  return out;
}

pyb::list history(const PyModel& m) {
  pyb::list out;
  if (!m.history.empty()) {
    for (const auto& r : m.history) out.append(to_python(r.to_json()));
  } else if (m.loaded->meta.contains("history")) {
    for (const auto& h : m.loaded->meta["history"]) out.append(to_python(h));
  }
  return out;
}

}  // namespace

void bind_model(pyb::module_& m) {
  pyb::class_<PyModel>(m, "Model", "A trained model with its users' histories (driftrec.train / driftrec.load).")
      .def_property_readonly("name", [](const PyModel& x) { return x.loaded->model->name(); })
      .def_property_readonly("config", [](const PyModel& x) { return to_python(x.loaded->model->config()); })
      .def_property_readonly("meta", [](const PyModel& x) { return to_python(x.loaded->meta); })
      .def_property_readonly(
          "validation",
          [](const PyModel& x) { return to_python(x.loaded->meta.value("validation", nlohmann::json::object())); })
      .def_property_readonly("history", &history)
      .def_property_readonly("item_ids", &item_ids)
      .def_property_readonly("n_items", [](const PyModel& x) { return x.loaded->model->n_items() - 1; })
      .def_property_readonly("capabilities",
                             [](const PyModel& x) {
                               const auto c = x.loaded->model->capabilities();
                               pyb::dict d;
                               d["online_update"] = c.online_update;
                               d["explain"] = c.explain;
                               d["remembers_users"] = c.remembers_users;
                               return d;
                             })
      .def_property_readonly("item_embeddings", &item_embeddings)
      .def("recommend", &recommend, arg("user_ids"), arg("k") = 10, arg("filter_already_liked") = true,
           arg("items") = pyb::none(), arg("exclude") = pyb::none(), arg("rerank") = "", arg("rerank_depth") = 100,
           arg("at") = pyb::none())
      .def("recommend_history", &recommend_history, arg("histories"), arg("k") = 10, arg("filter_already_liked") = true,
           arg("items") = pyb::none(), arg("exclude") = pyb::none(), arg("rerank") = "", arg("rerank_depth") = 100)
      .def("_recommend_cpp_seconds", &recommend_cpp_seconds, arg("user_ids"), arg("k") = 10)
      .def(
          "observe",
          [](PyModel& x, const std::string& user, const std::string& item, const std::string& behavior,
             std::optional<std::int64_t> ts, float value) {
            pyb::gil_scoped_release nogil;
            return rec(x).observe(user, item, ts, behavior, value);
          },
          arg("user"), arg("item"), arg("behavior") = "", arg("ts") = pyb::none(), arg("value") = 1.0f)
      .def(
          "set_histories",
          [](PyModel& x, const PyDataset& d) {
            pyb::gil_scoped_release nogil;
            return rec(x).set_histories(*d.data);
          },
          arg("data"))
      .def("history_length", [](const PyModel& x, const std::string& u) { return x.recommender->history_length(u); })
      .def("explain", &explain, arg("user"), arg("item"))
      .def("similar_items", &similar_items, arg("item"), arg("k") = 10)
      .def("save", &save, arg("dir"))
      .def("__repr__", [](const PyModel& x) {
        return "<driftrec.Model " + x.loaded->model->name() + ": " + std::to_string(x.loaded->model->n_items() - 1) +
               " items, " + std::to_string(x.recommender->users()) + " users' histories>";
      });
}

}  // namespace driftrec::py
