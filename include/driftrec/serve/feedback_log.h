#pragma once
// Recorded feedback (POST /v1/feedback) as a bandit log in the Open Bandit Dataset layout, so
// `driftrec ope` can evaluate another policy on what the served policies showed.
#include <cstdint>
#include <string>

#include "driftrec/data/id_map.h"
#include "driftrec/ope/bandit_log.h"
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

}  // namespace driftrec::serve
