#include "driftrec/data/dataset.h"

#include <algorithm>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"

namespace driftrec::data {

std::vector<Event> InteractionLog::events(std::int64_t begin, std::int64_t end) const {
  std::vector<Event> out;
  out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, end - begin)));
  for (std::int64_t r = begin; r < end; ++r) out.push_back(event(r));
  return out;
}

std::int32_t ItemTable::primary_category(std::int32_t item) const {
  const auto i = static_cast<std::size_t>(item);
  if (i + 1 >= category_offsets.size()) return -1;
  const auto b = category_offsets[i], e = category_offsets[i + 1];
  return b < e ? category_ids[static_cast<std::size_t>(b)] : -1;
}

std::string Dataset::fingerprint() const {
  Fingerprint fp;
  fp.add(users.checksum());
  fp.add(items.checksum());
  for (const auto& b : behaviors.names()) fp.add(b);
  fp.add_bytes(log.user.data(), log.user.size() * sizeof(std::int32_t));
  fp.add_bytes(log.item.data(), log.item.size() * sizeof(std::int32_t));
  fp.add_bytes(log.ts.data(), log.ts.size() * sizeof(std::int64_t));
  fp.add_bytes(log.behavior.data(), log.behavior.size() * sizeof(std::int16_t));
  return fp.hex();
}

DatasetBuilder::DatasetBuilder() {
  ds_.behaviors.add("interact");
  ds_.domains.add("");
  info_.emplace_back();  // padding item
}

void DatasetBuilder::add(std::string_view user, std::string_view item, std::int64_t ts, std::string_view behavior,
                         float value, std::string_view domain) {
  const auto u = ds_.users.add(user);
  const auto i = ds_.items.add(item);
  if (static_cast<std::size_t>(i) >= info_.size()) info_.resize(static_cast<std::size_t>(i) + 1);
  const auto b = behavior.empty() ? 0 : ds_.behaviors.add(behavior);
  const auto d = domain.empty() ? 0 : ds_.domains.add(domain);
  if (b > INT16_MAX || d > INT16_MAX) throw InvalidInput("more than 32767 behaviour types or domains");
  events_.push_back(Event{u, i, ts, static_cast<std::int16_t>(b), static_cast<std::int16_t>(d), value});
}

void DatasetBuilder::add_indexed(std::int32_t user, std::int32_t item, std::int64_t ts, std::int16_t behavior,
                                 float value, std::int16_t domain) {
  if (static_cast<std::size_t>(item) >= info_.size()) info_.resize(static_cast<std::size_t>(item) + 1);
  events_.push_back(Event{user, item, ts, behavior, domain, value});
}

void DatasetBuilder::set_item_info(std::string_view item, const std::vector<std::string>& categories,
                                   const std::vector<std::string>& tokens, std::string_view title,
                                   std::string_view /*domain*/) {
  const auto i = static_cast<std::size_t>(ds_.items.add(item));
  if (i >= info_.size()) info_.resize(i + 1);
  auto& inf = info_[i];
  inf.categories.clear();
  inf.tokens.clear();
  for (const auto& c : categories)
    if (!c.empty()) inf.categories.push_back(ds_.item_table.categories.add(c));
  for (const auto& t : tokens)
    if (!t.empty()) inf.tokens.push_back(ds_.item_table.vocabulary.add(t));
  inf.title = std::string(title);
  inf.set = true;
}

Dataset DatasetBuilder::finish() {
  std::stable_sort(events_.begin(), events_.end(),
                   [](const Event& a, const Event& b) { return a.user < b.user || (a.user == b.user && a.ts < b.ts); });
  auto& log = ds_.log;
  const std::size_t n = events_.size();
  log.user.resize(n);
  log.item.resize(n);
  log.ts.resize(n);
  log.behavior.resize(n);
  log.domain.resize(n);
  log.value.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    const auto& e = events_[r];
    log.user[r] = e.user;
    log.item[r] = e.item;
    log.ts[r] = e.ts;
    log.behavior[r] = e.behavior;
    log.domain[r] = e.domain;
    log.value[r] = e.value;
  }
  log.offsets.assign(static_cast<std::size_t>(ds_.users.size()) + 1, 0);
  for (const auto& e : events_) ++log.offsets[static_cast<std::size_t>(e.user) + 1];
  std::partial_sum(log.offsets.begin(), log.offsets.end(), log.offsets.begin());
  events_.clear();
  events_.shrink_to_fit();

  auto& t = ds_.item_table;
  info_.resize(static_cast<std::size_t>(ds_.items.size()));
  t.category_offsets.assign(1, 0);
  t.token_offsets.assign(1, 0);
  t.category_ids.clear();
  t.token_ids.clear();
  t.titles.assign(info_.size(), "");
  for (std::size_t i = 0; i < info_.size(); ++i) {
    t.category_ids.insert(t.category_ids.end(), info_[i].categories.begin(), info_[i].categories.end());
    t.token_ids.insert(t.token_ids.end(), info_[i].tokens.begin(), info_[i].tokens.end());
    t.category_offsets.push_back(static_cast<std::int64_t>(t.category_ids.size()));
    t.token_offsets.push_back(static_cast<std::int64_t>(t.token_ids.size()));
    t.titles[i] = std::move(info_[i].title);
  }
  info_.clear();
  info_.emplace_back();
  Dataset out = std::move(ds_);
  ds_ = Dataset();
  ds_.behaviors.add("interact");
  ds_.domains.add("");
  return out;
}

namespace {
// Copies categories/tokens/titles of every item the builder knows from `from` (matched by id).
// The builder's category and token tables must start as copies of `from`'s, so indices agree.
void copy_item_info(const Dataset& from, DatasetBuilder& b) {
  const auto& t = from.item_table;
  const IdMap& items = b.dataset().items;
  for (std::int32_t i = 1; i < items.size(); ++i) {
    const auto src = from.items.find(items.name(i));
    if (src < 0) continue;
    const auto old = static_cast<std::size_t>(src);
    if (old + 1 >= t.category_offsets.size()) continue;
    std::vector<std::string> cats, toks;
    for (auto k = t.category_offsets[old]; k < t.category_offsets[old + 1]; ++k)
      cats.push_back(t.categories.name(t.category_ids[static_cast<std::size_t>(k)]));
    if (old + 1 < t.token_offsets.size())
      for (auto k = t.token_offsets[old]; k < t.token_offsets[old + 1]; ++k)
        toks.push_back(t.vocabulary.name(t.token_ids[static_cast<std::size_t>(k)]));
    const std::string& title = old < t.titles.size() ? t.titles[old] : std::string();
    if (!cats.empty() || !toks.empty() || !title.empty()) b.set_item_info(items.name(i), cats, toks, title);
  }
}

// A builder whose tables start as copies of `ds`'s (behaviours, domains, categories, tokens).
void inherit_tables(const Dataset& ds, DatasetBuilder& b) {
  Dataset& out = b.dataset();
  out.name = ds.name;
  out.has_clock = ds.has_clock;
  out.behaviors = ds.behaviors;
  out.domains = ds.domains;
  out.item_table.categories = ds.item_table.categories;
  out.item_table.vocabulary = ds.item_table.vocabulary;
}
}  // namespace

namespace {
// Copies the rows with keep[r] (all when keep is null) into a dataset whose id maps start as
// `users`/`items`; unseen ids are appended in order of first appearance.
Dataset rebuild(const Dataset& ds, const std::vector<bool>* keep, const IdMap& users, const IdMap& items) {
  DatasetBuilder b;
  inherit_tables(ds, b);
  Dataset& out = b.dataset();
  out.users = users;
  out.items = items;
  for (std::size_t r = 0; r < ds.log.size(); ++r) {
    if (keep && !(*keep)[r]) continue;
    b.add_indexed(out.users.add(ds.users.name(ds.log.user[r])), out.items.add(ds.items.name(ds.log.item[r])),
                  ds.log.ts[r], ds.log.behavior[r], ds.log.value[r], ds.log.domain[r]);
  }
  copy_item_info(ds, b);
  return b.finish();
}
}  // namespace

Dataset subset(const Dataset& ds, const std::vector<bool>& keep) {
  if (keep.size() != ds.log.size()) throw InvalidInput("subset: mask size differs from the event count");
  // The log is sorted by user, so users keep their relative order.
  return rebuild(ds, &keep, IdMap(), IdMap());
}

Dataset align_ids(const Dataset& ds, const IdMap& users, const IdMap& items) {
  return rebuild(ds, nullptr, users, items);
}

std::vector<std::int64_t> item_counts(const InteractionLog& log, std::int32_t n_items) {
  std::vector<std::int64_t> c(static_cast<std::size_t>(n_items), 0);
  for (auto i : log.item) ++c[static_cast<std::size_t>(i)];
  return c;
}

}  // namespace driftrec::data
