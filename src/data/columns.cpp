#include "driftrec/data/columns.h"

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/text.h"
#include "driftrec/data/readers.h"

namespace driftrec::data {

namespace {

void check_lengths(const EventColumns& c) {
  const auto n = c.users.size();
  // Optional columns may be empty (absent); the item column may not.
  auto check = [&](std::size_t size, std::size_t column, bool optional) {
    if ((size != 0 || !optional) && size != n)
      throw InvalidInput(c.source + ": column '" + c.names.at(column) + "' has " + std::to_string(size) +
                         " rows, the user column " + std::to_string(n));
  };
  check(c.items.size(), 1, false);
  check(c.ts.size(), 2, true);
  check(c.behaviors.size(), 3, true);
  check(c.values.size(), 4, true);
  check(c.domains.size(), 5, true);
  if (n == 0) throw InvalidInput(c.source + ": no events");
}

}  // namespace

Dataset from_columns(const EventColumns& c, const ItemColumns& items) {
  if (c.names.size() != 6) throw InvalidInput(c.source + ": six column names are needed");
  check_lengths(c);
  auto where = [&c](std::size_t row, std::size_t column) {
    return c.source + " row " + std::to_string(row) + ", column '" + c.names[column] + "'";
  };
  DatasetBuilder b;
  const bool clock = !c.ts.empty();
  for (std::size_t r = 0; r < c.users.size(); ++r) {
    // The file readers' rules: ids non-empty, ids and labels printable UTF-8.
    auto check = [&](const std::string& text, std::size_t column, bool id) {
      if (id && text.empty()) throw InvalidInput(where(r, column) + ": empty id");
      if (const auto p = text_problem(text); !p.empty()) throw InvalidInput(where(r, column) + ": " + p);
    };
    check(c.users[r], 0, true);
    check(c.items[r], 1, true);
    if (!c.behaviors.empty()) check(c.behaviors[r], 3, false);
    if (!c.domains.empty()) check(c.domains[r], 5, false);
    const float value = c.values.empty() ? 1.0f : c.values[r];
    if (!std::isfinite(value)) throw InvalidInput(where(r, 4) + ": not a finite number");
    b.add(c.users[r], c.items[r], clock ? c.ts[r] : static_cast<std::int64_t>(r),
          c.behaviors.empty() ? std::string_view{} : std::string_view(c.behaviors[r]), value,
          c.domains.empty() ? std::string_view{} : std::string_view(c.domains[r]));
  }
  const auto& known = b.dataset().items;
  for (std::size_t i = 0; i < items.ids.size(); ++i) {
    if (known.find(items.ids[i]) < 0) continue;  // no events: ignored, as the file readers do
    const std::string title = i < items.titles.size() ? items.titles[i] : std::string();
    b.set_item_info(items.ids[i],
                    i < items.categories.size() ? split_categories(items.categories[i]) : std::vector<std::string>{},
                    tokenize(title), title);
  }
  auto ds = b.finish();
  ds.name = c.source;
  ds.has_clock = clock;
  return ds;
}

}  // namespace driftrec::data
