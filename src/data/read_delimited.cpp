// csv, tsv and RecBole .inter event files.
#include <algorithm>

#include "read_support.h"

namespace driftrec::data::detail {

void read_delimited_events(const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep,
                           RowErrors& errs, ItemSide& side, bool recbole) {
  LineInput in(path);
  std::string line;
  if (!in.next(line)) throw InvalidInput(path + ": file is empty");
  const char delim = detect_delimiter(path, line, opt.delimiter);
  const bool quotes = delim != '\t';
  bool unterminated = false;
  std::vector<std::string> header;
  std::vector<std::string> first_row;
  if (opt.header || recbole) {
    header = split_delimited(line, delim, quotes, &unterminated);
    check_header(header, path, in.line_no());
  } else {
    first_row = split_delimited(line, delim, quotes, &unterminated);
  }
  const std::string roles[] = {"user", "item", "timestamp", "behavior", "value", "category", "domain"};
  int col[7];
  for (int r = 0; r < 7; ++r) col[r] = find_column(header, roles[r], explicit_for(opt.columns, roles[r]), path);
  if (header.empty()) {  // no header: user,item[,timestamp] by position unless mapped
    if (col[0] < 0) col[0] = 0;
    if (col[1] < 0) col[1] = 1;
    if (col[2] < 0 && first_row.size() > 2) col[2] = 2;
  }
  if (col[0] < 0) throw InvalidInput(path + ": no user column in the header (name it user/user_id or pass --user-col)");
  if (col[1] < 0) throw InvalidInput(path + ": no item column in the header (name it item/item_id or pass --item-col)");
  const std::vector<std::string>& names = header;
  auto col_name = [&](int r) {
    return col[r] < static_cast<int>(names.size()) ? bare_name(names[static_cast<std::size_t>(col[r])])
                                                   : "column " + std::to_string(col[r] + 1);
  };
  const bool clock = col[2] >= 0;
  if (!clock) b.dataset().has_clock = false;
  std::unordered_map<std::string, std::int64_t> ordinal;  // per-user position when there is no clock
  int max_col = 0;
  for (int c : col) max_col = std::max(max_col, c);
  const std::size_t expected = header.empty() ? 0 : header.size();

  auto handle = [&](const std::vector<std::string>& f, const std::string& raw) {
    ++rep.rows_read;
    try {
      if (unterminated) throw ParseError(path, in.line_no(), "row", "unterminated quoted field");
      if (expected && f.size() != expected)
        throw ParseError(path, in.line_no(), "row",
                         "expected " + std::to_string(expected) + " fields, got " + std::to_string(f.size()));
      if (static_cast<int>(f.size()) <= max_col)
        throw ParseError(
            path, in.line_no(), "row",
            "expected at least " + std::to_string(max_col + 1) + " fields, got " + std::to_string(f.size()));
      const std::string user = require_id(f[static_cast<std::size_t>(col[0])], path, in.line_no(), col_name(0));
      const std::string item = require_id(f[static_cast<std::size_t>(col[1])], path, in.line_no(), col_name(1));
      std::int64_t ts = clock ? parse_ts_field(f[static_cast<std::size_t>(col[2])], path, in.line_no(), col_name(2))
                              : ordinal[user]++;
      const std::string behavior =
          col[3] >= 0 ? check_text(lower(trim(f[static_cast<std::size_t>(col[3])])), path, in.line_no(), col_name(3))
                      : "";
      if (col[3] >= 0 && behavior.empty()) throw ParseError(path, in.line_no(), col_name(3), "empty behaviour");
      const float value =
          col[4] >= 0 ? parse_value(f[static_cast<std::size_t>(col[4])], path, in.line_no(), col_name(4)) : 1.0f;
      const std::string domain =
          col[6] >= 0 ? check_text(trim(f[static_cast<std::size_t>(col[6])]), path, in.line_no(), col_name(6)) : "";
      if (col[5] >= 0) {
        auto cats = split_list(check_text(f[static_cast<std::size_t>(col[5])], path, in.line_no(), col_name(5)));
        if (!cats.empty() && !side.has(item)) side.set(item, std::move(cats));
      }
      b.add(user, item, ts, behavior, value, domain);
      ++rep.rows_loaded;
    } catch (const ParseError& e) {
      errs.reject(e, raw);
    }
  };
  if (!first_row.empty()) handle(first_row, line);
  while (in.next(line)) handle(split_delimited(line, delim, quotes, &unterminated), line);
}

}  // namespace driftrec::data::detail
