// driftrec.Dataset and driftrec.Split.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/data/columns.h"
#include "driftrec/data/readers.h"
#include "driftrec/data/stats.h"
#include "driftrec/workflow/split.h"

namespace driftrec::py {

namespace {

using pyb::arg;

std::string opt_str(const pyb::object& o) { return o.is_none() ? std::string() : o.cast<std::string>(); }

PyDataset read(const std::string& path, const std::string& format, const pyb::object& items, const pyb::object& user,
               const pyb::object& item, const pyb::object& time, const pyb::object& behavior, const pyb::object& value,
               const pyb::object& category, const pyb::object& domain, const pyb::object& delimiter, bool header,
               const std::string& on_error, const pyb::object& rejects) {
  data::ReadOptions o;
  o.format = format;
  o.columns = {opt_str(user),  opt_str(item),     opt_str(time),  opt_str(behavior),
               opt_str(value), opt_str(category), opt_str(domain)};
  o.delimiter = data::parse_delimiter(opt_str(delimiter));
  o.header = header;
  if (on_error != "fail" && on_error != "skip") throw InvalidInput("on_error must be 'fail' or 'skip'");
  o.on_error = on_error == "skip" ? data::OnError::kSkip : data::OnError::kFail;
  if (o.on_error == data::OnError::kSkip)
    o.rejects_path = rejects.is_none() ? "rejects.tsv" : rejects.cast<std::string>();
  o.items_path = opt_str(items);
  pyb::gil_scoped_release nogil;
  return PyDataset{std::make_shared<const data::Dataset>(data::load_dataset(path, o))};
}

// Columns from Python lists/arrays (driftrec.Dataset.from_pandas prepares them).
PyDataset from_columns(std::vector<std::string> users, std::vector<std::string> items,
                       std::optional<std::vector<std::int64_t>> ts, std::optional<std::vector<std::string>> behaviors,
                       std::optional<std::vector<float>> values, std::optional<std::vector<std::string>> domains,
                       std::vector<std::string> names, const std::string& source,
                       std::optional<std::vector<std::string>> item_ids,
                       std::optional<std::vector<std::string>> item_categories,
                       std::optional<std::vector<std::string>> item_titles) {
  data::EventColumns c;
  c.source = source;
  c.names = std::move(names);
  c.users = std::move(users);
  c.items = std::move(items);
  if (ts) c.ts = std::move(*ts);
  if (behaviors) c.behaviors = std::move(*behaviors);
  if (values) c.values = std::move(*values);
  if (domains) c.domains = std::move(*domains);
  data::ItemColumns ic;
  if (item_ids) ic.ids = std::move(*item_ids);
  if (item_categories) ic.categories = std::move(*item_categories);
  if (item_titles) ic.titles = std::move(*item_titles);
  pyb::gil_scoped_release nogil;
  return PyDataset{std::make_shared<const data::Dataset>(data::from_columns(c, ic))};
}

std::vector<std::string> names_of(const data::IdMap& map) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(map.count()));
  for (std::int32_t i = 1; i < map.size(); ++i) out.push_back(map.name(i));
  return out;
}

PySplit split(const PyDataset& d, const std::string& method, const std::string& valid_start,
              const std::string& test_start, std::vector<std::string> targets, std::vector<std::string> domains,
              std::vector<std::string> target_domains, bool new_items, bool dedup, int min_user_events,
              int min_item_events, bool refit, double valid_fraction, std::uint64_t valid_seed) {
  PySplit s;
  s.data = d.data;
  auto& o = s.options;
  o.split = method;
  o.valid_start = valid_start;
  o.test_start = test_start;
  o.target_behaviors = std::move(targets);
  o.domains = std::move(domains);
  o.target_domains = std::move(target_domains);
  o.new_items = new_items;
  o.dedup = dedup;
  o.min_user_events = min_user_events;
  o.min_item_events = min_item_events;
  o.refit = refit;
  o.valid_fraction = valid_fraction;
  o.valid_seed = valid_seed;
  pyb::gil_scoped_release nogil;
  auto prepared = data::prepare(*d.data, o);
  s.summary = workflow::split_summary(prepared);
  s.train = std::make_shared<const data::Dataset>(std::move(prepared.split.train));
  return s;
}

std::string describe(const data::Dataset& ds) {
  return "<driftrec.Dataset '" + ds.name + "': " + std::to_string(ds.log.size()) + " events, " +
         std::to_string(ds.users.count()) + " users, " + std::to_string(ds.items.count()) + " items>";
}

}  // namespace

DataArg data_arg(const pyb::object& o) {
  if (pyb::isinstance<PySplit>(o)) {
    const auto& s = o.cast<const PySplit&>();
    return {s.data, s.options};
  }
  if (pyb::isinstance<PyDataset>(o)) return {o.cast<const PyDataset&>().data, std::nullopt};
  throw InvalidInput("data must be a driftrec.Dataset or a driftrec.Split");
}

void bind_data(pyb::module_& m) {
  pyb::class_<PyDataset>(m, "Dataset", "Behaviour events with their id maps and item table (immutable).")
      .def_static("read", &read, arg("path"), arg("format") = "auto", arg("items") = pyb::none(),
                  arg("user") = pyb::none(), arg("item") = pyb::none(), arg("time") = pyb::none(),
                  arg("behavior") = pyb::none(), arg("value") = pyb::none(), arg("category") = pyb::none(),
                  arg("domain") = pyb::none(), arg("delimiter") = pyb::none(), arg("header") = true,
                  arg("on_error") = "fail", arg("rejects") = pyb::none(),
                  "Reads a file or directory in any format the CLI reads (see `driftrec data inspect`).")
      .def_static("_from_columns", &from_columns, arg("users"), arg("items"), arg("ts"), arg("behaviors"),
                  arg("values"), arg("domains"), arg("names"), arg("source"), arg("item_ids"), arg("item_categories"),
                  arg("item_titles"))
      .def("split", &split, arg("method") = "loo", arg("valid_start") = "0.8", arg("test_start") = "0.9",
           arg("targets") = std::vector<std::string>{}, arg("domains") = std::vector<std::string>{},
           arg("target_domains") = std::vector<std::string>{}, arg("new_items") = false, arg("dedup") = false,
           arg("min_user_events") = 0, arg("min_item_events") = 0, arg("refit") = false, arg("valid_fraction") = 0.0,
           arg("valid_seed") = 42,
           "The preprocessing and split to train and evaluate under (loo, temporal, or given: the data's own "
           "train/valid/test files; valid_fraction carves validation out of a given training file).")
      .def("stats", [](const PyDataset& d) { return to_python(data::dataset_stats(*d.data)); })
      .def_property_readonly("name", [](const PyDataset& d) { return d.data->name; })
      .def_property_readonly("n_users", [](const PyDataset& d) { return d.data->users.count(); })
      .def_property_readonly("n_items", [](const PyDataset& d) { return d.data->items.count(); })
      .def_property_readonly("n_events", [](const PyDataset& d) { return d.data->log.size(); })
      .def_property_readonly("has_clock", [](const PyDataset& d) { return d.data->has_clock; })
      .def_property_readonly("user_ids", [](const PyDataset& d) { return names_of(d.data->users); })
      .def_property_readonly("item_ids", [](const PyDataset& d) { return names_of(d.data->items); })
      .def("__len__", [](const PyDataset& d) { return d.data->log.size(); })
      .def("__repr__", [](const PyDataset& d) { return describe(*d.data); });

  pyb::class_<PySplit>(m, "Split", "A Dataset with the preprocessing and split to train and evaluate under.")
      .def_property_readonly("data", [](const PySplit& s) { return PyDataset{s.data}; })
      .def_property_readonly("train", [](const PySplit& s) { return PyDataset{s.train}; })
      .def_property_readonly("options", [](const PySplit& s) { return to_python(data::to_json(s.options)); })
      .def_property_readonly("summary", [](const PySplit& s) { return to_python(s.summary); })
      .def("__repr__", [](const PySplit& s) {
        return "<driftrec.Split " + s.summary.value("protocol", std::string()) + ": " +
               std::to_string(s.summary.value("train_events", 0)) + " training events, " +
               std::to_string(s.summary.value("valid_cases", 0)) + " validation and " +
               std::to_string(s.summary.value("test_cases", 0)) + " test cases>";
      });
}

}  // namespace driftrec::py
