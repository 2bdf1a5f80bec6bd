#pragma once
// Recorded feedback (POST /v1/feedback) as a bandit log in the Open Bandit Dataset layout, so
// `driftrec ope` can evaluate another policy on what the served policies showed.
#include <cstdint>
#include <string>
#include <vector>

#include "driftrec/data/id_map.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/ope/bandit_log.h"
#include "driftrec/rl/reinforce.h"
#include "driftrec/store/event_store.h"

namespace driftrec::serve {

struct FeedbackExport {
  ope::BanditLog log;             ///< item_id = the model's item index; context: user, policy
  std::size_t skipped_items = 0;  ///< rows whose item the id map does not know
};

/// Every feedback row of `store` with an item known to `items` (a model's id map). Rows carry
/// reward = clicked (or bought when `reward` is "buy"). Throws InvalidInput for another reward.
FeedbackExport feedback_log(const store::EventStore& store, const data::IdMap& items,
                            const std::string& reward = "click");

/// Stored events as the model sees them (items it does not know dropped, behaviours by name): the
/// server's state for a user is the model's encode() of these.
std::vector<data::Event> model_events(const models::LoadedModel& m, std::int32_t user,
                                      const std::vector<store::StoredEvent>& events);

struct FeedbackSessions {
  std::vector<rl::LoggedSession> sessions;
  std::size_t requests = 0;       ///< slates (request ids) with at least one row of a known item
  std::size_t clicks = 0;         ///< clicked rows among them
  std::size_t skipped_items = 0;  ///< rows whose item the model does not know
  std::size_t cold_requests = 0;  ///< requests of users with no stored event before them (left out)
};

/// Recorded feedback as logged sessions for rl::actions_from_sessions. One step per request_id (its
/// rows in position order); a user's requests in time order, a new session after `session_gap`
/// seconds without one. A step's state is the user's stored events before the request's first
/// feedback (the last `history_limit`), as the server encoded them; clicks stored from feedback
/// are events, so later steps see earlier clicks. beta is the served propensity of the item at its
/// position: exactly the single-draw probability at position 0 for every served policy, the
/// position's marginal below it (an approximation documented in rl/reinforce.h's terms: it
/// overstates the first-draw probability, so weights there are smaller).
/// Throws InvalidInput for session_gap < 1.
FeedbackSessions feedback_sessions(const store::EventStore& store, const models::LoadedModel& m,
                                   std::int64_t session_gap = 1800, std::size_t history_limit = 200);

}  // namespace driftrec::serve
