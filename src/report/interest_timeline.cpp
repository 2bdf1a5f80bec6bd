#include "driftrec/report/interest_timeline.h"

#include <algorithm>

namespace driftrec::report {

std::vector<TimelineSpan> interest_timeline(const models::Model& model, const data::ItemTable& table, std::int32_t user,
                                            const std::vector<data::Event>& history, const TimelineOptions& options) {
  const std::size_t n = history.size();
  const std::size_t spans = std::min(options.spans, n);
  std::vector<TimelineSpan> out(spans);
  for (std::size_t w = 0; w < spans; ++w) {
    auto& span = out[w];
    span.begin = n * w / spans;
    span.end = n * (w + 1) / spans;
    for (auto e = span.begin; e < span.end; ++e) ++span.done[table.primary_category(history[e].item)];
    const std::vector<data::Event> prefix(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(span.end));
    auto state = model.encode(user, prefix);
    if (options.timed) span.asked_at = span.end < n ? std::optional(history[span.end].ts) : options.last_asked;
    state.now = span.asked_at;
    const auto top = model.recommend(state, options.k);
    for (const auto i : top.items) ++span.recommended[table.primary_category(i)];
  }
  return out;
}

}  // namespace driftrec::report
