// Taobao UserBehavior.csv.
#include "read_support.h"

namespace driftrec::data::detail {

void read_taobao_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs, ItemSide& side) {
  LineInput in(path);
  std::string line;
  static const std::unordered_map<std::string, std::string> kBehavior = {
      {"pv", "view"}, {"cart", "cart"}, {"fav", "fav"}, {"buy", "buy"}};
  bool unterminated = false;
  while (in.next(line)) {
    ++rep.rows_read;
    try {
      const auto f = split_delimited(line, ',', false, &unterminated);
      if (f.size() != 5)
        throw ParseError(path, in.line_no(), "row",
                         "expected user,item,category,behavior,timestamp; got " + std::to_string(f.size()) + " fields");
      const auto user = require_id(f[0], path, in.line_no(), "user");
      const auto item = require_id(f[1], path, in.line_no(), "item");
      const auto cat = require_id(f[2], path, in.line_no(), "category");
      const auto bt = kBehavior.find(lower(trim(f[3])));
      if (bt == kBehavior.end())
        throw ParseError(path, in.line_no(), "behavior", "'" + trim(f[3]) + "' is not one of pv, cart, fav, buy");
      const auto ts = parse_ts_field(f[4], path, in.line_no(), "timestamp");
      if (!side.has(item)) side.set(item, {cat});
      b.add(user, item, ts, bt->second);
      ++rep.rows_loaded;
    } catch (const ParseError& e) {
      errs.reject(e, line);
    }
  }
}

}  // namespace driftrec::data::detail
