#pragma once
// Item and user groups for the fairness metrics and the re-rankers (`evaluate --fairness`,
// `--rerank`, the report, the server): read from files of ids (one per line, as CPFair ships them)
// or computed (long tail = items outside the top `head_share` by training events; active users =
// the top `active_share` by history length), and the evaluator's re-ranking hook.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driftrec/core/topk.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/evaluator.h"
#include "driftrec/eval/fairness.h"
#include "driftrec/models/replay.h"
#include "driftrec/rerank/reranker.h"

namespace driftrec::workflow {

struct GroupOptions {
  std::string long_tail_file;  ///< long-tail item ids, one per line ("" = computed)
  std::string active_file;     ///< active user ids, one per line ("" = computed)
  double head_share = 0.2;
  double active_share = 0.2;
};

/// flag[index] = 1 for every id of `ids` listed in `path` (one id per line; blank lines skipped).
/// Ids the map does not know are counted in `*unknown`. Throws NotFound / IoError.
std::vector<char> read_id_flags(const std::string& path, const data::IdMap& ids, std::int64_t* unknown = nullptr);

struct Groups {
  std::vector<char> long_tail;  ///< per item index
  std::vector<char> active;     ///< per user index
};
/// The groups of `full`'s items and of the users of `cases` (histories in full.log).
Groups make_groups(const data::Dataset& full, const std::vector<std::int64_t>& train_counts,
                   const std::vector<data::EvalCase>& cases, const GroupOptions& options);

/// What the fairness metrics and the re-rankers need to evaluate `cases` of a split (evaluate and
/// the report): the training events per item, the groups, and the metrics' options.
struct EvalFairness {
  std::vector<std::int64_t> train_counts;
  Groups groups;
  std::shared_ptr<const eval::FairnessOptions> options;  ///< categories point into the `full` given
  /// The re-ranker for `spec` over these groups, the training counts and `full`'s categories
  /// (make_reranker's errors); nullptr for "" or "none".
  std::unique_ptr<rerank::Reranker> reranker(const std::string& spec, const data::Dataset& full) const;
};
/// EvalFairness for `cases` of `full` with training events `train` (`full` must outlive it).
EvalFairness eval_fairness(const data::Dataset& full, const data::Dataset& train,
                           const std::vector<data::EvalCase>& cases, const GroupOptions& options);

/// EvalFairness for a replay of `full` over [start_ts, end_ts) (eval_fairness's counterpart;
/// `options` stay empty, a replay has no fairness metrics): training counts are the events before
/// `start_ts`, and a user's activity is their history length at the start, among the users replayed
/// (those with an event in the period).
EvalFairness replay_fairness(const data::Dataset& full, std::int64_t start_ts, std::int64_t end_ts,
                             const GroupOptions& options);

/// The evaluator's re-ranking hook for `reranker` (which must outlive it): the case's candidates,
/// history in full.log and activity go into a rerank::Request.
std::function<std::vector<std::int32_t>(const data::EvalCase&, const TopK&, std::size_t)> rerank_hook(
    const rerank::Reranker& reranker, const data::Dataset& full, const std::vector<char>& active);

/// Points `eo` at `reranker` (which must outlive the evaluation): rerank_hook over `full` and
/// `active`, choosing from `depth` candidates. A null `reranker` (EvalFairness::reranker of "" or
/// "none") leaves `eo` as it is: the model's own order.
void use_reranker(eval::EvalOptions& eo, const rerank::Reranker* reranker, const data::Dataset& full,
                  const std::vector<char>& active, std::size_t depth);
/// The same for a replay: every list shown is re-ranked (models::ReplayOptions::rerank).
void use_reranker(models::ReplayOptions& ro, const rerank::Reranker* reranker, const data::Dataset& full,
                  const std::vector<char>& active, std::size_t depth);

}  // namespace driftrec::workflow
