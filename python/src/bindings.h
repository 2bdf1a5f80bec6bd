#pragma once
// The Python-facing objects shared between the binding files, and each file's bind function.
#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/train/epoch_record.h"
#include "driftrec/workflow/recommender.h"

namespace driftrec::py {

/// driftrec.Dataset: an immutable, shared Dataset.
struct PyDataset {
  std::shared_ptr<const data::Dataset> data;
};

/// driftrec.Split: a Dataset with the preprocessing and split to train and evaluate under.
struct PySplit {
  std::shared_ptr<const data::Dataset> data;
  data::PrepareOptions options;
  nlohmann::json summary;  ///< workflow::split_summary of the prepared split
  std::shared_ptr<const data::Dataset> train;
};

/// driftrec.Model: a trained model, its users' histories (for recommend/observe), and what save()
/// needs: the training events of a model trained in this process, or the directory it came from.
struct PyModel {
  std::shared_ptr<const models::LoadedModel> loaded;
  std::unique_ptr<workflow::Recommender> recommender;
  std::shared_ptr<const data::Dataset> train;  ///< trained here
  std::string source_dir;                      ///< loaded from here
  std::vector<train::EpochRecord> history;
};

/// A Dataset or a Split argument: the data and the preprocessing to use (none for a plain Dataset).
struct DataArg {
  std::shared_ptr<const data::Dataset> data;
  std::optional<data::PrepareOptions> options;
};
/// Throws InvalidInput for anything but a driftrec.Dataset or driftrec.Split.
DataArg data_arg(const pybind11::object& o);

void bind_data(pybind11::module_& m);
void bind_model(pybind11::module_& m);
void bind_workflows(pybind11::module_& m);
void bind_analysis(pybind11::module_& m);
void bind_loop(pybind11::module_& m);

}  // namespace driftrec::py
