// The report's per-user interest timeline: spans of the history, the category mix done and
// recommended in each, and lists asked at the time the user came back when the report asks at a
// time (a model that reads the time sees it; nothing after a span's end is known to its list).
#include "driftrec/report/interest_timeline.h"

#include <gtest/gtest.h>

using namespace driftrec;

namespace {
// Items 1-4 are in category 0, items 5-8 in category 1. The model recommends category 0 when asked
// without a time or before t = 600, category 1 from then on; it also records the longest history
// it was shown, to check that no span's list saw a later event.
class ClockModel : public models::Model {
 public:
  ClockModel() : Model(nlohmann::json::object()) { n_items_ = 9; }
  std::string name() const override { return "clock"; }
  models::Capabilities capabilities() const override { return {}; }
  void fit(const data::Dataset&, const models::FitOptions&) override {}
  void score(const models::UserState& state, float* out) const override {
    const bool late = state.now && *state.now >= 600;
    for (std::int32_t i = 1; i < n_items_; ++i) out[i] = ((i >= 5) == late ? 10.0f : 0.0f) - 0.01f * i;
    mask_padding(out);
    if (!state.history.empty()) last_seen_ts.push_back(state.history.back().ts);
  }
  void save_weights(const std::string&) const override {}
  void load_weights(const std::string&) override {}
  mutable std::vector<std::int64_t> last_seen_ts;
};

data::ItemTable two_categories() {
  data::ItemTable t;
  t.category_offsets = {0, 0};  // item 0: padding, no category
  for (std::int32_t i = 1; i <= 8; ++i) {
    t.category_ids.push_back(i >= 5 ? 1 : 0);
    t.category_offsets.push_back(static_cast<std::int64_t>(t.category_ids.size()));
  }
  return t;
}

// Eight events at t = 100, 200, ..., 800, alternating items 1 and 5 (one of each category).
std::vector<data::Event> alternating() {
  std::vector<data::Event> h;
  for (int e = 0; e < 8; ++e) h.push_back({1, e % 2 == 0 ? 1 : 5, 100 * (e + 1), 0, 0, 1.0f});
  return h;
}
}  // namespace

TEST(InterestTimeline, SpansMixesAndAnUntimedList) {
  ClockModel m;
  report::TimelineOptions o;
  o.spans = 4;
  o.k = 3;
  const auto spans = report::interest_timeline(m, two_categories(), 1, alternating(), o);
  ASSERT_EQ(spans.size(), 4u);
  for (std::size_t w = 0; w < spans.size(); ++w) {
    EXPECT_EQ(spans[w].begin, 2 * w);
    EXPECT_EQ(spans[w].end, 2 * (w + 1));
    EXPECT_FALSE(spans[w].asked_at.has_value());
    EXPECT_EQ(spans[w].done.at(0), 1u);  // one event of each category
    EXPECT_EQ(spans[w].done.at(1), 1u);
    ASSERT_EQ(spans[w].recommended.size(), 1u);
    EXPECT_EQ(spans[w].recommended.at(0), 3u);  // items 2, 3, 4: unseen, category 0
  }
  // Each list saw exactly its span's prefix.
  EXPECT_EQ(m.last_seen_ts, (std::vector<std::int64_t>{200, 400, 600, 800}));
  // Fewer events than spans: one span per event.
  const auto all = alternating();
  const std::vector<data::Event> three(all.begin(), all.begin() + 3);
  o.spans = 8;
  const auto short_spans = report::interest_timeline(m, two_categories(), 1, three, o);
  ASSERT_EQ(short_spans.size(), 3u);
  EXPECT_EQ(short_spans[2].begin, 2u);
  EXPECT_EQ(short_spans[2].end, 3u);
  ASSERT_EQ(short_spans[2].done.size(), 1u);
  EXPECT_EQ(short_spans[2].done.at(0), 1u);  // the third event alone: item 1
}

TEST(InterestTimeline, ATimedListIsAskedWhenTheUserCameBack) {
  ClockModel m;
  report::TimelineOptions o;
  o.spans = 4;
  o.k = 3;
  o.timed = true;
  o.last_asked = 2000;
  const auto spans = report::interest_timeline(m, two_categories(), 1, alternating(), o);
  ASSERT_EQ(spans.size(), 4u);
  // A span's list at its next event's time; the last at the time the report asks.
  const std::vector<std::int64_t> asked = {300, 500, 700, 2000};
  const std::vector<std::int32_t> category = {0, 0, 1, 1};
  for (std::size_t w = 0; w < spans.size(); ++w) {
    ASSERT_TRUE(spans[w].asked_at.has_value());
    EXPECT_EQ(*spans[w].asked_at, asked[w]);
    ASSERT_EQ(spans[w].recommended.size(), 1u);
    EXPECT_EQ(spans[w].recommended.at(category[w]), 3u);
  }
  // Timed, but the report asks its last list without one (a protocol without a time): none then.
  o.last_asked.reset();
  const auto untimed_last = report::interest_timeline(m, two_categories(), 1, alternating(), o);
  EXPECT_FALSE(untimed_last.back().asked_at.has_value());
  ASSERT_EQ(untimed_last.back().recommended.size(), 1u);
  EXPECT_EQ(untimed_last.back().recommended.at(0), 3u);
}
