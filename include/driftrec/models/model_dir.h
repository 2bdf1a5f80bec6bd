#pragma once
// Model directories (DESIGN.md): model.json (format version, model name, effective config, data
// fingerprint, id-map checksums, weights file and checksum, validation metrics, creation time),
// the weights (weights.bin, or weights.pt for LibTorch models), items.tsv,
// users.tsv, behaviors.tsv, item_categories.tsv (line k: categories of item k, '|'-joined),
// item_counts.tsv (line k: training events of item k) and, in model.json, the distribution of the
// training users' history lengths (the last two feed the re-rankers and are left out for models
// without user slots: private and federated models). Written to a temporary
// sibling and renamed into place; every field is checked on load and problems raise CorruptModel naming the file.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

constexpr int kModelFormatVersion = 1;

/// A model with the id maps it was trained with.
struct LoadedModel {
  std::unique_ptr<Model> model;
  data::IdMap users;
  data::IdMap items;
  data::StringTable behaviors;
  /// Item categories (categories table + CSR by item index), empty when the data had none.
  data::ItemTable item_table;
  /// Training events per item index (index 0 = padding = 0); empty when the directory has none.
  std::vector<std::int64_t> item_counts;
  nlohmann::json meta;  ///< the whole model.json
};

/// Saves `model` trained on `train` (for the id maps and fingerprint). `extra` is merged into
/// model.json (e.g. {"validation": {...}, "split": {...}, "training_seconds": ...}).
/// Replaces an existing directory atomically (rename); throws IoError.
void save_model_dir(const std::string& dir, const Model& model, const data::Dataset& train,
                    const nlohmann::json& extra = nlohmann::json::object());

/// Saves `model`, a fine-tuned copy of the model in `source_dir` (same kind, items and users), as a
/// new model directory: the source's id maps and tables are copied, the weights replaced and
/// model.json updated (weights checksum, creation time, `extra` merged, e.g. {"reinforce": {...}}).
/// Atomic like save_model_dir; throws NotFound, CorruptModel, InvalidInput (another model kind or
/// catalogue) or IoError.
void save_fine_tuned(const std::string& source_dir, const std::string& dir, const Model& model,
                     const nlohmann::json& extra = nlohmann::json::object());

/// Copies the model directory `source_dir` to `dir` as it is (checked by loading it first); atomic like
/// save_model_dir. Throws NotFound, CorruptModel or IoError.
void copy_model_dir(const std::string& source_dir, const std::string& dir);

/// Sets on an in-memory model what save_model_dir records of its training events for the
/// re-rankers (item_counts and model.json's user_history_lengths); nothing for a model without
/// user slots (private and federated models).
void set_training_counts(LoadedModel& loaded, const data::Dataset& train);

/// Loads and validates a model directory. Throws NotFound, IoError or CorruptModel.
LoadedModel load_model_dir(const std::string& dir);

/// model.json of a model directory, parsed and version-checked, without loading the weights.
/// Throws NotFound or CorruptModel.
nlohmann::json read_model_meta(const std::string& dir);

/// The epoch whose weights a trained model kept: the best validation check in `meta["history"]`;
/// for files without a history, `epochs` less the checks early stopping waited
/// (patience x eval_every) when training stopped before `config.epochs`. 0 when the model has no
/// epochs (one-pass models).
int best_epoch(const nlohmann::json& meta);

}  // namespace driftrec::models
