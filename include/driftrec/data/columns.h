#pragma once
// A Dataset from in-memory columns (a pandas DataFrame, numpy arrays, another program's tables):
// the same validation as the file readers, with errors naming the row and the column.
#include <cstdint>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::data {

struct EventColumns {
  std::string source = "columns";  ///< what errors and Dataset::name call the data, e.g. "DataFrame"
  /// Column names for error messages: user, item, timestamp, behavior, value, domain.
  std::vector<std::string> names = {"user", "item", "timestamp", "behavior", "value", "domain"};
  std::vector<std::string> users, items;  ///< one entry per event, non-empty ids
  std::vector<std::int64_t> ts;           ///< seconds; empty: no clock (each user's events in row order)
  std::vector<std::string> behaviors;     ///< empty: every event is "interact"
  std::vector<float> values;              ///< empty: 1; else finite
  std::vector<std::string> domains;       ///< empty: no domain
};

/// Optional item table: one row per item.
struct ItemColumns {
  std::vector<std::string> ids;
  std::vector<std::string> categories;  ///< a list per item (data::split_categories); empty vector = none
  std::vector<std::string> titles;      ///< tokenized for the text towers; empty vector = none
};

/// Builds a Dataset (sorted stably by user and time). Throws InvalidInput "<source> row R, column
/// 'C': problem" (R is the 0-based row position) for an empty id, an id or label that is not
/// printable UTF-8, a non-finite value or columns of different lengths. Categories split as the
/// readers split them ('|', ',', ';', whitespace). Item-table rows naming items without events are ignored.
Dataset from_columns(const EventColumns& events, const ItemColumns& items = {});

}  // namespace driftrec::data
