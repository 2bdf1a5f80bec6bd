#include "driftrec/serve/feedback_log.h"

#include <algorithm>
#include <unordered_map>

#include "driftrec/core/error.h"

namespace driftrec::serve {

FeedbackExport feedback_log(const store::EventStore& store, const data::IdMap& items, const std::string& reward) {
  if (reward != "click" && reward != "buy") throw InvalidInput("reward must be click or buy, not '" + reward + "'");
  FeedbackExport out;
  auto& log = out.log;
  log.n_actions = items.size();
  log.categorical_names = {"user", "policy"};
  log.categorical.resize(2);
  log.categorical_values.resize(2);
  std::unordered_map<std::string, std::int32_t> interned[2];
  auto intern = [&](int c, const std::string& v) {
    auto [it, fresh] = interned[c].emplace(v, static_cast<std::int32_t>(log.categorical_values[c].size()));
    if (fresh) log.categorical_values[c].push_back(v);
    log.categorical[c].push_back(it->second);
  };
  std::int32_t positions = 0;
  store.scan_feedback([&](const store::StoredFeedback& f) {
    const auto item = items.find(f.item);
    if (item < 1) {
      ++out.skipped_items;
      return true;
    }
    log.add(item, f.position, (reward == "buy" ? f.bought : f.clicked) ? 1.0f : 0.0f, f.propensity);
    log.timestamp.push_back(std::to_string(f.ts));
    intern(0, f.user);
    intern(1, f.policy.empty() ? "greedy" : f.policy);
    positions = std::max(positions, f.position + 1);
    return true;
  });
  log.n_positions = positions;
  return out;
}

}  // namespace driftrec::serve
