// Side information of the sequential models, from the training data as the configuration asks:
// behaviour/repeat/time switches, the cross-domain item domains, the attribute and content tables,
// which behaviours are targets of the loss, and how often users come back to items.
#include "side_tables.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/data/vectors.h"
#include "driftrec/privacy/dp_sgd_plan.h"

namespace driftrec::nn {

namespace {

// Domain k = the data's domain index - 1 (index 0 is "no domain"); an item takes the domain of its
// first training event (items without one: domain 0, they are never trained anyway).
torch::Tensor item_domains(const data::Dataset& train, const std::string& who, int64_t* n_domains) {
  const auto& log = train.log;
  *n_domains = static_cast<int64_t>(train.domains.size()) - 1;
  if (*n_domains < 2)
    throw InvalidInput(who + "the data has " + std::to_string(std::max<int64_t>(0, *n_domains)) +
                       " domain(s); a cross-domain model needs two or more (a domain column)");
  std::vector<int64_t> domain(static_cast<std::size_t>(train.n_items()), -1);
  for (std::size_t r = 0; r < log.size(); ++r) {
    auto& dm = domain[static_cast<std::size_t>(log.item[r])];
    if (dm < 0) dm = std::max<int64_t>(0, log.domain[r] - 1);
  }
  for (auto& dm : domain) dm = std::max<int64_t>(0, dm);
  return torch::tensor(domain, torch::kLong);
}

// Each item's attributes (categories) as a padded [n_items, width] table, when the config asks.
void attribute_table(const data::Dataset& train, SequentialModel::Impl& m, const nlohmann::json& c,
                     const std::string& who) {
  const auto n_items = train.n_items();
  m.attr_t = torch::Tensor();
  m.n_attributes = 0;
  m.attr_width = 0;
  if (c["attributes"].get<bool>()) {
    const auto& t = train.item_table;
    if (!t.has_categories() || t.category_offsets.size() != static_cast<std::size_t>(n_items) + 1) {
      log_warn(who + "attributes is on but the data has no item categories/attributes; the attribute embedding is off");
    } else {
      const auto cap = c["max_attributes"].get<int64_t>();
      int64_t width = 1;
      for (std::int32_t i = 0; i < n_items; ++i)
        width = std::max(width, std::min(cap, t.category_offsets[static_cast<std::size_t>(i) + 1] -
                                                  t.category_offsets[static_cast<std::size_t>(i)]));
      std::vector<int64_t> table(static_cast<std::size_t>(n_items * width), 0);
      for (std::int32_t i = 1; i < n_items; ++i) {
        const auto b = t.category_offsets[static_cast<std::size_t>(i)],
                   e = std::min(b + width, t.category_offsets[static_cast<std::size_t>(i) + 1]);
        for (auto k = b; k < e; ++k)
          table[static_cast<std::size_t>(i * width + (k - b))] = t.category_ids[static_cast<std::size_t>(k)] + 1;
      }
      m.n_attributes = static_cast<int64_t>(t.categories.size());
      m.attr_width = width;
      m.attr_t = torch::tensor(table, torch::kLong).view({n_items, width});
    }
  }
}

// category_softmax: each item's classes (its first category, or with category_classes: all every one
// of its categories, compacted to 0..C-1; items without one in class C) and the within-class bias it
// starts from, log(1 + training count). With several classes for some item the head gets (item,
// class) pairs in item order (m.pair_item_t); otherwise one class per item.
void category_classes(const data::Dataset& train, SequentialModel::Impl& m, const nlohmann::json& c,
                      const std::string& kind, const std::string& who) {
  m.n_classes = 0;
  m.item_class_t = m.class_bias_t = m.pair_item_t = torch::Tensor();
  if (!c["category_softmax"].get<bool>()) {
    if (c["category_prior_half_life"].get<double>() > 0)
      throw InvalidInput(who +
                         "category_prior_half_life is a part of category_softmax: set category_softmax: true too");
    if (c["category_classes"].get<std::string>() != "first")
      throw InvalidInput(who + "category_classes is a part of category_softmax: set category_softmax: true too");
    return;
  }
  const std::string why = who + "category_softmax ";
  if (kind == "crossdomain") throw InvalidInput(why + "is not available for the cross-domain model");
  if (c["loss"] != "softmax")
    throw InvalidInput(why + "needs loss: softmax (each category is normalised over all of its items), not '" +
                       c["loss"].get<std::string>() + "'");
  if (privacy::wants_dp(c) || c["fed_rounds"].get<int64_t>() > 0)
    throw InvalidInput(why + "is for the centralised fit (its initial biases are the items' training counts)");
  const auto n_items = train.n_items();
  const auto& t = train.item_table;
  if (!t.has_categories() || t.category_offsets.size() != static_cast<std::size_t>(n_items) + 1)
    throw InvalidInput(why + "needs an item table with categories (--items)");
  const bool all = c["category_classes"].get<std::string>() == "all";
  std::unordered_map<std::int32_t, int64_t> index;
  std::vector<std::vector<int64_t>> of_item(static_cast<std::size_t>(n_items));
  for (std::int32_t i = 1; i < n_items; ++i) {
    const auto from = t.category_offsets[static_cast<std::size_t>(i)];
    const auto to = all ? t.category_offsets[static_cast<std::size_t>(i) + 1]
                        : std::min(from + 1, t.category_offsets[static_cast<std::size_t>(i) + 1]);
    auto& mine = of_item[static_cast<std::size_t>(i)];
    for (auto k = from; k < to; ++k) {
      const auto cls =
          index.emplace(t.category_ids[static_cast<std::size_t>(k)], static_cast<int64_t>(index.size())).first->second;
      if (std::find(mine.begin(), mine.end(), cls) == mine.end()) mine.push_back(cls);
    }
  }
  // Items without a category share one more class (only when there are such items: an empty class
  // would take probability from every item).
  const auto none = static_cast<int64_t>(index.size());
  bool any_none = false, several = false;
  for (std::size_t i = 1; i < of_item.size(); ++i) {
    if (of_item[i].empty()) of_item[i].push_back(none), any_none = true;
    several = several || of_item[i].size() > 1;
  }
  of_item[0] = {0};  // the padding: the head gives it a class of its own
  const auto counts = data::item_counts(train.log, n_items);
  std::vector<int64_t> cls, item;
  std::vector<float> bias;
  for (std::size_t i = 0; i < of_item.size(); ++i)
    for (const auto k : of_item[i]) {
      cls.push_back(k);
      item.push_back(static_cast<int64_t>(i));
      bias.push_back(static_cast<float>(std::log1p(static_cast<double>(counts[i]))));
    }
  m.n_classes = none + (any_none ? 1 : 0);
  m.item_class_t = torch::tensor(cls, torch::kLong);
  m.class_bias_t = torch::tensor(bias);
  if (several) m.pair_item_t = torch::tensor(item, torch::kLong);
  log_info(why + "over " + std::to_string(none) + " categories" +
           (any_none ? " and one class for the items without a category" : std::string()) +
           (several ? " (" + std::to_string(cls.size() - 1) + " item-category pairs: an item mixes its categories)"
                    : std::string()));
}

}  // namespace

void configure_side_information(const data::Dataset& train, SequentialModel::Impl& m, const nlohmann::json& c,
                                const std::string& kind, const std::string& who) {
  // Side information the config asks for and the data has.
  m.n_behaviors =
      c["behavior_embedding"].get<bool>() ? static_cast<int64_t>(std::max<std::size_t>(1, train.behaviors.size())) : 0;
  m.repeat_behaviors =
      c["repeat"] == "true" ? static_cast<int64_t>(std::max<std::size_t>(1, train.behaviors.size())) : 0;
  m.gaps = c["time_gaps"].get<bool>();
  m.times = (kind == "hstu" || (kind == "crossdomain" && c["encoder"] == "hstu")) && c["time_bias"].get<bool>() &&
            train.has_clock;
  m.n_domains = 0;
  m.item_domain = torch::Tensor();
  if (kind == "crossdomain") m.item_domain = item_domains(train, who, &m.n_domains);
  if (m.gaps && !train.has_clock) {
    log_warn(who + "time_gaps is on but the data has no timestamps (only positions); the time-gap embedding is off");
    m.gaps = false;
  }
  m.request_time = c.value("request_time", false);
  m.request_time_dropout = c.value("request_time_dropout", 0.0);
  if (m.request_time && !train.has_clock) {
    log_warn(who + "request_time is on but the data has no timestamps (only positions); it is off");
    m.request_time = false;
  }
  if (m.request_time && kind == "crossdomain") {
    log_warn(who + "request_time is not supported by crossdomain (its encoders see one domain's events); it is off");
    m.request_time = false;
  }
  attribute_table(train, m, c, who);
  prepare_content(train, m, c, who);
  category_classes(train, m, c, kind, who);
}

std::vector<char> target_behaviors(const data::Dataset& train, const std::string& spec, const std::string& who) {
  std::vector<char> is_target(std::max<std::size_t>(1, train.behaviors.size()), 1);
  if (!spec.empty()) {
    std::fill(is_target.begin(), is_target.end(), 0);
    std::stringstream names(spec);
    for (std::string name; std::getline(names, name, ',');) {
      if (name.empty()) continue;
      const auto idx = train.behaviors.find(name);
      if (idx < 0) {
        std::string known;
        for (std::int32_t b = 0; b < static_cast<std::int32_t>(train.behaviors.size()); ++b)
          known += (known.empty() ? "" : ", ") + train.behaviors.name(b);
        throw InvalidInput(who + "target behaviour '" + name + "' is not in the data (known: " + known + ")");
      }
      is_target[static_cast<std::size_t>(idx)] = 1;
    }
  }
  return is_target;
}

double repeat_share(const data::Dataset& train, const std::vector<char>& is_target) {
  const auto& log = train.log;
  std::int64_t targets = 0, repeats = 0;
  std::unordered_set<std::int32_t> seen;
  for (std::int32_t u = 1; u < train.n_users(); ++u) {
    seen.clear();
    for (auto r = log.user_begin(u); r < log.user_end(u); ++r) {
      const auto i = static_cast<std::size_t>(r);
      const auto b = static_cast<std::size_t>(log.behavior[i]);
      if (b < is_target.size() && is_target[b]) {
        ++targets;
        repeats += seen.count(log.item[i]) ? 1 : 0;
      }
      seen.insert(log.item[i]);
    }
  }
  return targets > 0 ? static_cast<double>(repeats) / static_cast<double>(targets) : 0.0;
}

// The content tower's tables from the training data and the configured files.
void prepare_content(const data::Dataset& train, SequentialModel::Impl& m, const nlohmann::json& c,
                     const std::string& who) {
  const auto n_items = static_cast<int64_t>(train.n_items());
  m.text_kind = m.n_tokens = m.max_tokens = m.token_dim = m.feature_dim = 0;
  m.tokens_t = m.words_t = m.features_t = m.known_t = torch::Tensor();
  const std::string text = c["text"];
  const auto& t = train.item_table;
  if (text != "none") {
    if (!t.has_text() || t.token_offsets.size() != static_cast<std::size_t>(n_items) + 1) {
      log_warn(who + "text is on but the data has no item text (titles); the text tower is off");
    } else {
      const auto cap = c["max_tokens"].get<int64_t>();
      int64_t width = 1;
      for (int64_t i = 0; i < n_items; ++i)
        width = std::max(width, std::min(cap, t.token_offsets[static_cast<std::size_t>(i) + 1] -
                                                  t.token_offsets[static_cast<std::size_t>(i)]));
      std::vector<int64_t> table(static_cast<std::size_t>(n_items * width), 0);
      for (int64_t i = 1; i < n_items; ++i) {
        const auto b = t.token_offsets[static_cast<std::size_t>(i)];
        const auto e = std::min(b + width, t.token_offsets[static_cast<std::size_t>(i) + 1]);
        for (auto k = b; k < e; ++k)
          table[static_cast<std::size_t>(i * width + (k - b))] = t.token_ids[static_cast<std::size_t>(k)] + 1;
      }
      m.text_kind = text == "cnn" ? 1 : 2;
      m.n_tokens = static_cast<int64_t>(t.vocabulary.size()) + 1;
      m.max_tokens = width;
      m.tokens_t = torch::tensor(table, torch::kLong).view({n_items, width});
      m.token_dim = c["dim"].get<int64_t>();
      if (const std::string path = c["word_vectors"]; !path.empty()) {
        const auto wv = data::read_word_vectors(path);
        m.token_dim = wv.dim;
        std::unordered_map<std::string, std::size_t> row;
        for (std::size_t r = 0; r < wv.size(); ++r) row.emplace(wv.ids[r], r);
        auto words = torch::randn({m.n_tokens, wv.dim}) * (1.0 / std::sqrt(static_cast<double>(wv.dim)));
        words[0].zero_();
        std::int64_t matched = 0;
        const auto& vocab = t.vocabulary.names();
        for (std::size_t v = 0; v < vocab.size(); ++v) {
          const auto it = row.find(vocab[v]);
          if (it == row.end()) continue;
          words[static_cast<int64_t>(v) + 1].copy_(torch::from_blob(const_cast<float*>(wv.row(it->second)), {wv.dim}));
          ++matched;
        }
        if (matched == 0) throw InvalidInput(path + ": none of its words occur in the item titles");
        log_info(who + "word vectors: " + std::to_string(matched) + " of " + std::to_string(vocab.size()) +
                 " title words found in " + path);
        m.words_t = words;
      }
    }
  }
  if (const std::string path = c["item_vectors"]; !path.empty()) {
    const auto iv = data::read_item_vectors(path);
    auto features = torch::zeros({n_items, static_cast<int64_t>(iv.dim)});
    std::int64_t matched = 0;
    for (std::size_t r = 0; r < iv.size(); ++r) {
      const auto i = train.items.find(iv.ids[r]);
      if (i <= 0 || i >= n_items) continue;
      features[i].copy_(torch::from_blob(const_cast<float*>(iv.row(r)), {iv.dim}));
      ++matched;
    }
    if (matched == 0) throw InvalidInput(path + ": none of its item ids occur in the data");
    log_info(who + "item vectors: " + std::to_string(matched) + " of " + std::to_string(n_items - 1) +
             " items found in " + path);
    m.feature_dim = iv.dim;
    m.features_t = features;
  }
  if (m.text_kind > 0 || m.feature_dim > 0) {
    std::vector<float> known(static_cast<std::size_t>(n_items), 0.0f);
    for (auto item : train.log.item) known[static_cast<std::size_t>(item)] = 1.0f;
    m.known_t = torch::tensor(known);
  }
}

}  // namespace driftrec::nn
