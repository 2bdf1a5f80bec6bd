#include "driftrec/workflow/model_reranking.h"

#include <cmath>
#include <limits>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/eval/fairness.h"

namespace driftrec::workflow {

std::size_t active_min_history(const nlohmann::json& histogram, double share) {
  if (!histogram.is_array()) throw InvalidInput("user_history_lengths: not an array");
  std::int64_t total = 0;
  for (const auto& e : histogram) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_number_integer() ||
        e[0].get<std::int64_t>() < 0 || e[1].get<std::int64_t>() < 0)
      throw InvalidInput("user_history_lengths: entries must be [length, users] with non-negative integers");
    total += e[1].get<std::int64_t>();
  }
  const auto wanted = static_cast<std::int64_t>(std::ceil(share * static_cast<double>(total)));
  if (wanted <= 0) return std::numeric_limits<std::size_t>::max();
  std::int64_t seen = 0;
  for (auto it = histogram.rbegin(); it != histogram.rend(); ++it) {
    seen += (*it)[1].get<std::int64_t>();
    if (seen >= wanted) return static_cast<std::size_t>((*it)[0].get<std::int64_t>());
  }
  return 0;
}

ModelReranking::ModelReranking(const models::LoadedModel& model, const GroupOptions& groups) {
  catalogue_.items = model.item_table.has_categories() ? &model.item_table : nullptr;
  catalogue_.popularity = model.item_counts;
  std::int64_t unknown = 0;
  if (!groups.long_tail_file.empty()) {
    catalogue_.long_tail = read_id_flags(groups.long_tail_file, model.items, &unknown);
    if (unknown) log_info(groups.long_tail_file + ": " + std::to_string(unknown) + " id(s) the model does not know");
  } else if (!model.item_counts.empty()) {
    catalogue_.long_tail = eval::long_tail_items(model.item_counts, model.items.size(), groups.head_share);
  }
  if (!groups.active_file.empty()) {
    active_ = read_id_flags(groups.active_file, model.users, &unknown);
    if (unknown) log_info(groups.active_file + ": " + std::to_string(unknown) + " id(s) the model does not know");
  } else if (model.meta.contains("user_history_lengths")) {
    active_min_ = active_min_history(model.meta["user_history_lengths"], groups.active_share);
  } else {
    missing_activity_ =
        "the model directory has no training history lengths (a private model, or saved by an older version): "
        "give an active-users file";
  }
}

bool ModelReranking::active(std::int32_t user, std::size_t history_length) const {
  if (active_.empty()) return history_length >= active_min_;
  return user >= 1 && static_cast<std::size_t>(user) < active_.size() && active_[static_cast<std::size_t>(user)];
}

namespace {
/// Whether a re-ranker spec ("name[:strength]" stages joined by '+') has a stage called `name`.
bool has_stage(const std::string& spec, const std::string& name) {
  for (std::size_t from = 0; from <= spec.size();) {
    auto plus = spec.find('+', from);
    if (plus == std::string::npos) plus = spec.size();
    const auto stage = spec.substr(from, plus - from);
    if (stage.substr(0, stage.find(':')) == name) return true;
    from = plus + 1;
  }
  return false;
}
}  // namespace

std::shared_ptr<const rerank::Reranker> ModelReranking::reranker(const std::string& spec) const {
  std::lock_guard lock(mu_);
  if (const auto it = cache_.find(spec); it != cache_.end()) return it->second;
  if (has_stage(spec, "consumer") && active_.empty() && !missing_activity_.empty())
    throw InvalidInput("rerank '" + spec + "': " + missing_activity_);
  std::shared_ptr<const rerank::Reranker> r;
  try {
    r = rerank::make_reranker(spec, catalogue_);
  } catch (const InvalidInput& e) {
    if (!catalogue_.popularity.empty()) throw;
    throw InvalidInput(std::string(e.what()) +
                       " (the model directory has no item_counts.tsv: a private model, or one saved by an older "
                       "version; give a long-tail file or retrain)");
  }
  if (!r) throw InvalidInput("rerank: empty spec");
  if (cache_.size() >= 64) cache_.clear();
  cache_.emplace(spec, r);
  return r;
}

TopK ModelReranking::apply(const std::string& spec, const TopK& candidates, const models::UserState& state,
                           std::size_t k) const {
  const auto r = reranker(spec);
  rerank::Request q;
  q.items = candidates.items;
  q.scores = candidates.scores;
  q.history.reserve(state.history.size());
  for (const auto& e : state.history) q.history.push_back(e.item);
  q.active_user = active(state.user, state.history.size());
  TopK out;
  for (const auto i : r->rerank(q, k))
    for (std::size_t c = 0; c < candidates.size(); ++c)
      if (candidates.items[c] == i) {
        out.items.push_back(i);
        out.scores.push_back(candidates.scores[c]);
        break;
      }
  return out;
}

}  // namespace driftrec::workflow
