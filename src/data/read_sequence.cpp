// Whitespace-separated id files: sequences (user item1 item2 ...) and pairs (user item).
#include "read_support.h"

namespace driftrec::data::detail {

void read_sequence_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs) {
  LineInput in(path);
  std::string line;
  b.dataset().has_clock = false;
  while (in.next(line)) {
    ++rep.rows_read;
    const auto f = split_ws(line);
    try {
      if (f.size() < 2) throw ParseError(path, in.line_no(), "items", "a user with no items");
      const auto user = require_id(f[0], path, in.line_no(), "user");
      for (std::size_t k = 1; k < f.size(); ++k) require_id(f[k], path, in.line_no(), "item " + std::to_string(k));
      for (std::size_t k = 1; k < f.size(); ++k) b.add(user, f[k], static_cast<std::int64_t>(k - 1));
      rep.rows_loaded += static_cast<std::int64_t>(f.size() - 1);
    } catch (const ParseError& e) {
      errs.reject(e, line);
    }
  }
}

void read_pair_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs) {
  LineInput in(path);
  std::string line;
  b.dataset().has_clock = false;
  std::unordered_map<std::string, std::int64_t> pos;
  while (in.next(line)) {
    ++rep.rows_read;
    const auto f = split_ws(line);
    try {
      if (f.size() != 2)
        throw ParseError(path, in.line_no(), "row",
                         "expected 'user item', got " + std::to_string(f.size()) + " fields");
      const auto user = require_id(f[0], path, in.line_no(), "user");
      b.add(user, require_id(f[1], path, in.line_no(), "item"), pos[user]++);
      ++rep.rows_loaded;
    } catch (const ParseError& e) {
      errs.reject(e, line);
    }
  }
}

}  // namespace driftrec::data::detail
