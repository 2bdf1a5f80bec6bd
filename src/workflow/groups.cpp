#include "driftrec/workflow/groups.h"

#include <filesystem>
#include <fstream>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/eval/fairness.h"

namespace driftrec::workflow {

std::vector<char> read_id_flags(const std::string& path, const data::IdMap& ids, std::int64_t* unknown) {
  if (!std::filesystem::is_regular_file(path)) throw NotFound(path + ": no such group file");
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open for reading");
  std::vector<char> flag(static_cast<std::size_t>(ids.size()), 0);
  std::int64_t missing = 0;
  std::string line;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto id = line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
    const auto i = ids.find(id);
    if (i > 0)
      flag[static_cast<std::size_t>(i)] = 1;
    else
      ++missing;
  }
  if (unknown) *unknown = missing;
  return flag;
}

Groups make_groups(const data::Dataset& full, const std::vector<std::int64_t>& train_counts,
                   const std::vector<data::EvalCase>& cases, const GroupOptions& o) {
  Groups g;
  std::int64_t unknown = 0;
  if (!o.long_tail_file.empty()) {
    g.long_tail = read_id_flags(o.long_tail_file, full.items, &unknown);
    if (unknown) log_info(o.long_tail_file + ": " + std::to_string(unknown) + " id(s) are not items of the data");
  } else {
    g.long_tail = eval::long_tail_items(train_counts, full.n_items(), o.head_share);
  }
  if (!o.active_file.empty()) {
    g.active = read_id_flags(o.active_file, full.users, &unknown);
    if (unknown) log_info(o.active_file + ": " + std::to_string(unknown) + " id(s) are not users of the data");
  } else {
    std::vector<double> length(cases.size());
    std::vector<std::int32_t> users(cases.size());
    for (std::size_t c = 0; c < cases.size(); ++c) {
      users[c] = cases[c].user;
      length[c] = static_cast<double>(cases[c].history_end - full.log.user_begin(cases[c].user));
    }
    g.active = eval::active_users(users, length, o.active_share);
  }
  return g;
}

EvalFairness eval_fairness(const data::Dataset& full, const data::Dataset& train,
                           const std::vector<data::EvalCase>& cases, const GroupOptions& options) {
  EvalFairness f;
  f.train_counts = data::item_counts(train.log, full.n_items());
  f.groups = make_groups(full, f.train_counts, cases, options);
  auto fo = std::make_shared<eval::FairnessOptions>();
  fo->long_tail = f.groups.long_tail;
  fo->active = f.groups.active;
  fo->items = &full.item_table;
  f.options = fo;
  return f;
}

EvalFairness replay_fairness(const data::Dataset& full, std::int64_t start_ts, std::int64_t end_ts,
                             const GroupOptions& options) {
  EvalFairness f;
  f.train_counts.assign(static_cast<std::size_t>(full.n_items()), 0);
  std::vector<data::EvalCase> at_start;  // the users replayed, with their history at the start
  const auto& log = full.log;
  for (std::int32_t u = 1; u < full.n_users(); ++u) {
    auto r = log.user_begin(u);
    for (; r < log.user_end(u) && log.ts[static_cast<std::size_t>(r)] < start_ts; ++r)
      ++f.train_counts[static_cast<std::size_t>(log.item[static_cast<std::size_t>(r)])];
    if (r < log.user_end(u) && log.ts[static_cast<std::size_t>(r)] < end_ts)
      at_start.push_back({u, r, {}, log.ts[static_cast<std::size_t>(r)]});
  }
  f.groups = make_groups(full, f.train_counts, at_start, options);
  return f;
}

std::unique_ptr<rerank::Reranker> EvalFairness::reranker(const std::string& spec, const data::Dataset& full) const {
  return rerank::make_reranker(spec, {&full.item_table, groups.long_tail, train_counts});
}

std::function<std::vector<std::int32_t>(const data::EvalCase&, const TopK&, std::size_t)> rerank_hook(
    const rerank::Reranker& reranker, const data::Dataset& full, const std::vector<char>& active) {
  return [&reranker, &full, &active](const data::EvalCase& cs, const TopK& top, std::size_t k) {
    rerank::Request q;
    q.items = top.items;
    q.scores = top.scores;
    for (auto r = full.log.user_begin(cs.user); r < cs.history_end; ++r)
      q.history.push_back(full.log.item[static_cast<std::size_t>(r)]);
    const auto u = static_cast<std::size_t>(cs.user);
    q.active_user = u < active.size() && active[u];
    return reranker.rerank(q, k);
  };
}

void use_reranker(eval::EvalOptions& eo, const rerank::Reranker* reranker, const data::Dataset& full,
                  const std::vector<char>& active, std::size_t depth) {
  if (!reranker) return;
  eo.rerank = rerank_hook(*reranker, full, active);
  eo.rerank_depth = depth;
}

void use_reranker(models::ReplayOptions& ro, const rerank::Reranker* reranker, const data::Dataset& full,
                  const std::vector<char>& active, std::size_t depth) {
  if (!reranker) return;
  ro.rerank = rerank_hook(*reranker, full, active);
  ro.rerank_depth = depth;
}

}  // namespace driftrec::workflow
