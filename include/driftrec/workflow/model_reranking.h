#pragma once
// Re-ranking a served model's recommendations (`driftrec recommend --rerank`, the server's
// `?rerank=`, the Python module's Model.recommend(rerank=)): the catalogue facts come from the model
// directory (item categories, training counts per item, the training users' history lengths) or
// from group files, and re-rankers are built once per spec and reused. Evaluation builds its groups
// from the data instead (groups.h).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "driftrec/core/topk.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/rerank/reranker.h"
#include "driftrec/workflow/groups.h"

namespace driftrec::workflow {

/// The history length from which a user counts as active: the shortest length among the top
/// `share` of users of `histogram` ([[length, users], ...], as model.json's user_history_lengths
/// holds it); users tied at that length all count. SIZE_MAX when no user would (share 0).
std::size_t active_min_history(const nlohmann::json& histogram, double share);

class ModelReranking {
 public:
  /// `model` must outlive this object. Group files are read against the model's id maps
  /// (throws NotFound / IoError); otherwise the long tail is computed from the directory's
  /// training counts (items outside the top `head_share`) and active users from its history lengths.
  ModelReranking(const models::LoadedModel& model, const GroupOptions& groups = {});

  /// The k items to show from `candidates` (best first, e.g. the model's top 100, with their
  /// scores) for the user of `state` (their history items; state.user < 1 = unknown to the model),
  /// with their model scores. Throws InvalidInput for a bad spec or one whose facts the directory lacks.
  TopK apply(const std::string& spec, const TopK& candidates, const models::UserState& state, std::size_t k) const;
  /// Whether a user counts as active (consumer-fair re-ranking).
  bool active(std::int32_t user, std::size_t history_length) const;
  /// The re-ranker for `spec` (built on first use; at most 64 distinct specs are kept).
  std::shared_ptr<const rerank::Reranker> reranker(const std::string& spec) const;

 private:
  rerank::Catalogue catalogue_;
  std::vector<char> active_;      ///< per model user index, from a file (empty = by history length)
  std::size_t active_min_ = 0;    ///< computed: history length from which a user is active
  std::string missing_activity_;  ///< why active users cannot be computed ("" = they can)
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const rerank::Reranker>> cache_;
};

}  // namespace driftrec::workflow
