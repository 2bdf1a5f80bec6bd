#pragma once
// The in-memory dataset: a columnar event log sorted stably by (user, time) with per-user
// offsets, so one user's history is the contiguous span [user_begin(u), user_end(u)).
// Ties in time keep file order (stable sort).
#include <cstdint>
#include <string>
#include <vector>

#include "driftrec/data/id_map.h"

namespace driftrec::data {

/// One behaviour event, in dense indices. `ts` is seconds (or an ordinal position when the source
/// file has no clock, see Dataset::has_clock). `behavior` and `domain` index the dataset's tables.
struct Event {
  std::int32_t user = 0;
  std::int32_t item = 0;
  std::int64_t ts = 0;
  std::int16_t behavior = 0;
  std::int16_t domain = 0;
  float value = 1.0f;
};

/// Columnar events sorted by (user, ts), stable. Row r is (user[r], item[r], ts[r], ...).
struct InteractionLog {
  std::vector<std::int32_t> user;
  std::vector<std::int32_t> item;
  std::vector<std::int64_t> ts;
  std::vector<std::int16_t> behavior;
  std::vector<std::int16_t> domain;
  std::vector<float> value;
  /// offsets[u]..offsets[u+1] is user u's span; size = users.size() + 1 (offsets[0] = offsets[1] = 0).
  std::vector<std::int64_t> offsets;

  std::size_t size() const { return item.size(); }
  std::int64_t user_begin(std::int32_t u) const { return offsets[static_cast<std::size_t>(u)]; }
  std::int64_t user_end(std::int32_t u) const { return offsets[static_cast<std::size_t>(u) + 1]; }
  std::int64_t user_length(std::int32_t u) const { return user_end(u) - user_begin(u); }
  Event event(std::int64_t r) const {
    const auto i = static_cast<std::size_t>(r);
    return Event{user[i], item[i], ts[i], behavior[i], domain[i], value[i]};
  }
  /// Events of rows [begin, end) as Event structs.
  std::vector<Event> events(std::int64_t begin, std::int64_t end) const;
};

/// Item side information, indexed by item index. Categories and tokens are CSR lists.
struct ItemTable {
  StringTable categories;                         ///< category names
  StringTable vocabulary;                         ///< text tokens
  std::vector<std::int64_t> category_offsets{0};  ///< size n_items + 1 once finalized
  std::vector<std::int32_t> category_ids;
  std::vector<std::int64_t> token_offsets{0};
  std::vector<std::int32_t> token_ids;
  std::vector<std::string> titles;  ///< raw title/text per item ("" when unknown)

  bool has_categories() const { return !category_ids.empty(); }
  bool has_text() const { return !token_ids.empty(); }
  /// First category of item i, or -1.
  std::int32_t primary_category(std::int32_t item) const;
};

/// A loaded, validated dataset: id maps, the sorted event log and the item table.
struct Dataset {
  std::string name;  ///< source path or preset name
  IdMap users;
  IdMap items;
  StringTable behaviors;  ///< behaviour names ("view", "buy", ...); index 0 = "interact"
  StringTable domains;    ///< domain names; index 0 = "" (no domain)
  InteractionLog log;
  ItemTable item_table;
  bool has_clock = true;  ///< false when timestamps are positions (sequence/pair files)
  /// The behaviours a split counts as targets (set on its training data by the split; empty =
  /// every behaviour): what a model that predicts "the split's targets" learns.
  std::vector<std::string> target_behaviors;

  std::int32_t n_users() const { return users.size(); }  ///< slots including padding
  std::int32_t n_items() const { return items.size(); }  ///< slots including padding
  /// Stable fingerprint of ids and events (for model.json and results files).
  std::string fingerprint() const;
};

/// Accumulates events with external ids, then sorts and builds the columnar log.
class DatasetBuilder {
 public:
  DatasetBuilder();
  /// Adds one event. `behavior`/`domain` are names ("" = default).
  void add(std::string_view user, std::string_view item, std::int64_t ts, std::string_view behavior = {},
           float value = 1.0f, std::string_view domain = {});
  /// Adds an event in indices already registered in this builder's maps.
  void add_indexed(std::int32_t user, std::int32_t item, std::int64_t ts, std::int16_t behavior, float value,
                   std::int16_t domain);
  /// Attaches categories/tokens/title to an item (registering it in the id map).
  void set_item_info(std::string_view item, const std::vector<std::string>& categories,
                     const std::vector<std::string>& tokens, std::string_view title, std::string_view domain = {});
  Dataset& dataset() { return ds_; }
  /// Sorts stably by (user, ts), builds offsets and the item table; leaves the builder empty.
  Dataset finish();

 private:
  Dataset ds_;
  struct ItemInfo {
    std::vector<std::int32_t> categories, tokens;
    std::string title;
    bool set = false;
  };
  std::vector<ItemInfo> info_;  // by item index
  std::vector<Event> events_;
};

/// Keeps the events where keep[r] is true and re-indexes users and items densely (first
/// appearance in the kept log order), carrying the item table along. Order is preserved.
Dataset subset(const Dataset& ds, const std::vector<bool>& keep);

/// Rebuilds `ds` so its users and items use the given id maps first (same indices, e.g. a trained
/// model's); ids not in them get indices after them (>= the maps' sizes, which models ignore).
Dataset align_ids(const Dataset& ds, const IdMap& users, const IdMap& items);

/// Per-item event counts in `log` (size n_items).
std::vector<std::int64_t> item_counts(const InteractionLog& log, std::int32_t n_items);

}  // namespace driftrec::data
