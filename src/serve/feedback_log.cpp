#include "driftrec/serve/feedback_log.h"

#include <algorithm>
#include <iterator>
#include <tuple>
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

std::vector<data::Event> model_events(const models::LoadedModel& m, std::int32_t user,
                                      const std::vector<store::StoredEvent>& events) {
  std::vector<data::Event> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    const auto item = m.items.find(e.item);
    if (item < 1 || item >= m.model->n_items()) continue;
    const auto beh = m.behaviors.find(e.behavior);
    out.push_back(data::Event{user, item, e.ts, static_cast<std::int16_t>(std::max(0, beh)), 0, e.value});
  }
  return out;
}

namespace {

struct PendingRequest {
  std::string user;
  std::int64_t ts = 0, seq = 0;
  std::vector<std::pair<std::int32_t, const store::StoredFeedback*>> rows;  // (position, row)
};

}  // namespace

FeedbackSessions feedback_sessions(const store::EventStore& store, const models::LoadedModel& m,
                                   std::int64_t session_gap, std::size_t history_limit) {
  if (session_gap < 1) throw InvalidInput("session_gap must be at least 1 second");
  FeedbackSessions out;
  std::vector<store::StoredFeedback> rows;
  store.scan_feedback([&](const store::StoredFeedback& f) {
    rows.push_back(f);
    return true;
  });
  std::unordered_map<std::string, PendingRequest> requests;
  for (const auto& f : rows) {
    const auto item = m.items.find(f.item);
    if (item < 1 || item >= m.model->n_items()) {
      ++out.skipped_items;
      continue;
    }
    auto [it, fresh] = requests.try_emplace(f.request_id);
    auto& r = it->second;
    if (fresh) {
      r.user = f.user;
      r.ts = f.ts;
      r.seq = f.seq;
    }
    r.ts = std::min(r.ts, f.ts);
    r.seq = std::min(r.seq, f.seq);
    r.rows.emplace_back(f.position, &f);
  }
  std::unordered_map<std::string, std::vector<const PendingRequest*>> by_user;
  for (const auto& [id, r] : requests) by_user[r.user].push_back(&r);
  std::vector<std::string> users;
  for (const auto& [u, rs] : by_user) users.push_back(u);
  std::sort(users.begin(), users.end());
  for (const auto& user : users) {
    auto& rs = by_user[user];
    std::sort(rs.begin(), rs.end(), [](auto* a, auto* b) { return std::tie(a->ts, a->seq) < std::tie(b->ts, b->seq); });
    const auto idx = m.users.find(user);
    const auto events = model_events(m, idx, store.user_events(user));
    rl::LoggedSession cur{idx, {}};
    std::int64_t last = 0;
    auto flush = [&] {
      if (!cur.steps.empty()) out.sessions.push_back(std::move(cur));
      cur = rl::LoggedSession{idx, {}};
    };
    for (const auto* r : rs) {
      if (!cur.steps.empty() && r->ts - last > session_gap) flush();
      last = r->ts;
      rl::LoggedStep st;
      // In stored order, as the server encodes them.
      std::copy_if(events.begin(), events.end(), std::back_inserter(st.history),
                   [&](const data::Event& e) { return e.ts < r->ts; });
      if (st.history.size() > history_limit)
        st.history.erase(st.history.begin(), st.history.end() - static_cast<std::ptrdiff_t>(history_limit));
      if (st.history.empty()) {  // answered as a cold start: no state for the policy to learn in
        ++out.cold_requests;
        continue;
      }
      auto sorted = r->rows;
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [pos, f] : sorted) {
        st.items.push_back(m.items.find(f->item));
        st.beta.push_back(f->propensity);
        st.clicks.push_back(f->clicked ? 1.0f : 0.0f);
        out.clicks += f->clicked;
      }
      cur.steps.push_back(std::move(st));
      ++out.requests;
    }
    flush();
  }
  return out;
}

}  // namespace driftrec::serve
