// MovieLens ratings: u.data (tab-separated) and ratings.dat ("::").
#include "read_support.h"

namespace driftrec::data::detail {

void read_movielens_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs) {
  LineInput in(path);
  std::string line;
  const bool dat = lower(fs::path(path).extension().string()) == ".dat";
  while (in.next(line)) {
    ++rep.rows_read;
    try {
      auto f = dat ? split_on(line, "::") : split_ws(line);
      if (f.size() != 4)
        throw ParseError(path, in.line_no(), "row",
                         "expected user, item, rating, timestamp; got " + std::to_string(f.size()) + " fields");
      const auto user = require_id(f[0], path, in.line_no(), "user");
      const auto item = require_id(f[1], path, in.line_no(), "item");
      const float rating = parse_value(f[2], path, in.line_no(), "rating");
      const auto ts = parse_ts_field(f[3], path, in.line_no(), "timestamp");
      b.add(user, item, ts, "rate", rating);
      ++rep.rows_loaded;
    } catch (const ParseError& e) {
      errs.reject(e, line);
    }
  }
}

}  // namespace driftrec::data::detail
