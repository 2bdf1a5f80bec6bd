#pragma once
// One user's interest timeline, as the report's "Users" section draws it: the user's history cut
// into equal spans; for each span, the category mix of what the user did in it and of what the
// model recommended at its end.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/models/model.h"

namespace driftrec::report {

struct TimelineOptions {
  std::size_t spans = 8;  ///< at most this many spans (fewer when the history is shorter)
  std::size_t k = 10;     ///< length of the recommended list
  /// Ask every list at a time: a span's list at the time the user came back (its next event's
  /// timestamp, as the replay asks), the last span's at `last_asked`. Without, every list is asked
  /// without a time. Only models that read the time (`request_time`) see a difference.
  bool timed = false;
  std::optional<std::int64_t> last_asked;
};

struct TimelineSpan {
  std::size_t begin = 0, end = 0;                   ///< the span's events [begin, end); its list knows [0, end)
  std::optional<std::int64_t> asked_at;             ///< when the list was asked for
  std::map<std::int32_t, std::size_t> done;         ///< the span's events per primary category
  std::map<std::int32_t, std::size_t> recommended;  ///< the top-k's items per primary category (k or fewer)
};

/// The timeline of `user` (the model's index or -1) over a time-ordered `history`.
std::vector<TimelineSpan> interest_timeline(const models::Model& model, const data::ItemTable& table, std::int32_t user,
                                            const std::vector<data::Event>& history,
                                            const TimelineOptions& options = {});

}  // namespace driftrec::report
