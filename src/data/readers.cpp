#include "driftrec/data/readers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "driftrec/core/error.h"
#include "driftrec/core/text.h"

namespace fs = std::filesystem;

namespace driftrec::data {

std::vector<std::string> split_delimited(const std::string& line, char delim, bool quotes, bool* unterminated) {
  std::vector<std::string> out;
  std::string cur;
  bool in_q = false;
  *unterminated = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quotes && in_q) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          in_q = false;
        }
      } else {
        cur += c;
      }
    } else if (quotes && c == '"' && cur.empty()) {
      in_q = true;
    } else if (c == delim) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (in_q) *unterminated = true;
  out.push_back(std::move(cur));
  return out;
}

namespace {

// ---------------------------------------------------------------- line input and errors

class LineInput {
 public:
  explicit LineInput(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (fs::is_directory(path)) throw IoError(path + ": is a directory, expected a file");
    if (!in_) throw IoError(path + ": cannot open for reading");
  }
  /// Next non-blank line (CR and a UTF-8 BOM stripped); false at end of file.
  bool next(std::string& line) {
    while (std::getline(in_, line)) {
      ++line_no_;
      if (line_no_ == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      return true;
    }
    if (in_.bad()) throw IoError(path_ + ": read error near line " + std::to_string(line_no_));
    return false;
  }
  std::int64_t line_no() const { return line_no_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::int64_t line_no_ = 0;
};

class RowErrors {
 public:
  RowErrors(const ReadOptions& opt, LoadReport& rep) : opt_(opt), rep_(rep) {
    if (opt_.on_error == OnError::kSkip && !opt_.rejects_path.empty()) rep_.rejects_path = opt_.rejects_path;
  }
  /// Fail mode: rethrows. Skip mode: counts and records the row.
  void reject(const ParseError& e, const std::string& raw) {
    if (opt_.on_error == OnError::kFail) throw e;
    ++rep_.rows_rejected;
    if (rep_.first_errors.size() < 5) rep_.first_errors.push_back(e.what());
    if (!opt_.rejects_path.empty()) {
      if (!out_) {
        out_ = std::make_unique<std::ofstream>(opt_.rejects_path, std::ios::binary | std::ios::app);
        if (!*out_) throw IoError(opt_.rejects_path + ": cannot open rejects file for writing");
      }
      *out_ << e.file() << ':' << e.line() << '\t' << e.field() << ": " << e.problem() << '\t' << raw << '\n';
    }
  }
  ~RowErrors() {
    if (out_) out_->flush();
  }

 private:
  const ReadOptions& opt_;
  LoadReport& rep_;
  std::unique_ptr<std::ofstream> out_;
};

// ---------------------------------------------------------------- field parsing

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_ws(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t b = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
  return out;
}

std::vector<std::string> split_on(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t b = 0;
  for (;;) {
    const auto p = s.find(sep, b);
    if (p == std::string::npos) {
      out.push_back(s.substr(b));
      return out;
    }
    out.push_back(s.substr(b, p - b));
    b = p + sep.size();
  }
}

bool is_integer(const std::string& s) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

float parse_value(const std::string& s, const std::string& file, std::int64_t line, const std::string& field) {
  const std::string t = trim(s);
  if (t.empty()) throw ParseError(file, line, field, "empty, expected a number");
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) throw ParseError(file, line, field, "'" + t + "' is not a number");
  if (!std::isfinite(d)) throw ParseError(file, line, field, "'" + t + "' is not a finite number");
  return static_cast<float>(d);
}

/// A label (behaviour, domain, category): printable UTF-8; "" allowed.
std::string check_text(std::string t, const std::string& file, std::int64_t line, const std::string& field) {
  if (const auto p = text_problem(t); !p.empty()) throw ParseError(file, line, field, p);
  return t;
}

std::string require_id(const std::string& s, const std::string& file, std::int64_t line, const std::string& field) {
  std::string t = trim(s);
  if (t.empty()) throw ParseError(file, line, field, "empty id");
  return check_text(std::move(t), file, line, field);
}

std::int64_t parse_ts_field(const std::string& s, const std::string& file, std::int64_t line,
                            const std::string& field) {
  try {
    return parse_timestamp(trim(s));
  } catch (const InvalidInput& e) {
    throw ParseError(file, line, field, e.what());
  }
}

// Latin-1 -> UTF-8 when the bytes are not valid UTF-8 already (MovieLens files are Latin-1).
std::string to_utf8(const std::string& s) {
  if (valid_utf8(s)) return s;
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// ---------------------------------------------------------------- column aliases

const std::unordered_map<std::string, std::vector<std::string>>& aliases() {
  static const std::unordered_map<std::string, std::vector<std::string>> a = {
      {"user", {"user", "user_id", "userid", "uid", "user_idx", "visitorid", "customer_id", "session_id"}},
      {"item", {"item", "item_id", "itemid", "iid", "movie_id", "movieid", "product_id", "article_id", "news_id"}},
      {"timestamp", {"timestamp", "ts", "time", "datetime", "date", "unix_ts", "event_time"}},
      {"behavior", {"behavior", "behaviour", "behavior_type", "behaviour_type", "event", "event_type", "action"}},
      {"value", {"value", "rating", "weight", "score", "dwell", "dwell_time"}},
      {"category", {"category", "categories", "category_id", "cate", "cat", "genre", "genres"}},
      {"domain", {"domain"}},
      {"text", {"text", "title", "name", "description", "tokens", "abstract"}},
  };
  return a;
}

// Column name without a RecBole ":type" suffix, lower-cased.
std::string bare_name(const std::string& h) {
  const auto c = h.find(':');
  return lower(trim(c == std::string::npos ? h : h.substr(0, c)));
}

/// Index of the column for `role`: explicit mapping (name or digits) first, then aliases; -1 if none.
int find_column(const std::vector<std::string>& header, const std::string& role, const std::string& explicit_name,
                const std::string& file) {
  if (!explicit_name.empty()) {
    if (is_integer(explicit_name)) {
      long long idx = -1;
      const char* end = explicit_name.data() + explicit_name.size();
      const auto r = std::from_chars(explicit_name.data() + (explicit_name[0] == '+'), end, idx);
      const long long limit = header.empty() ? 100000 : static_cast<long long>(header.size());
      if (r.ec != std::errc() || r.ptr != end || idx < 0 || idx >= limit)
        throw InvalidInput(file + ": column index " + explicit_name + " for '" + role + "' is out of range (0.." +
                           std::to_string(limit - 1) + ")");
      return static_cast<int>(idx);
    }
    for (std::size_t i = 0; i < header.size(); ++i)
      if (bare_name(header[i]) == lower(explicit_name)) return static_cast<int>(i);
    throw InvalidInput(file + ": no column named '" + explicit_name + "' (for " + role + ") in the header");
  }
  for (const auto& alias : aliases().at(role))
    for (std::size_t i = 0; i < header.size(); ++i)
      if (bare_name(header[i]) == alias) return static_cast<int>(i);
  return -1;
}

/// A header naming one column twice is ambiguous (which one holds the timestamps?): refused.
void check_header(const std::vector<std::string>& header, const std::string& file, std::int64_t line) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    const auto n = bare_name(header[i]);
    if (n.empty()) continue;
    for (std::size_t j = 0; j < i; ++j)
      if (bare_name(header[j]) == n)
        throw ParseError(file, line, "header",
                         "column '" + n + "' appears twice (columns " + std::to_string(j + 1) + " and " +
                             std::to_string(i + 1) + "); rename one");
  }
}

std::string explicit_for(const ColumnMap& c, const std::string& role) {
  if (role == "user") return c.user;
  if (role == "item") return c.item;
  if (role == "timestamp") return c.timestamp;
  if (role == "behavior") return c.behavior;
  if (role == "value") return c.value;
  if (role == "category") return c.category;
  if (role == "domain") return c.domain;
  return "";
}

std::vector<std::string> split_list(const std::string& s) {
  // Category lists: '|' or ',' or whitespace separated (RecBole token_seq uses spaces).
  std::string t = s;
  for (auto& ch : t)
    if (ch == '|' || ch == ',' || ch == ';') ch = ' ';
  return split_ws(t);
}

// ---------------------------------------------------------------- event readers

struct ItemSide {  // categories attached from event rows (csv with a category column, taobao)
  std::unordered_map<std::string, std::vector<std::string>> categories;
  std::vector<std::string> order;  // items in order of first appearance, for stable category indices
  bool has(const std::string& item) const { return categories.count(item) > 0; }
  void set(const std::string& item, std::vector<std::string> cats) {
    order.push_back(item);
    categories.emplace(item, std::move(cats));
  }
};

char detect_delimiter(const std::string& path, const std::string& first_line, char given) {
  if (given) return given;
  const auto ext = lower(fs::path(path).extension().string());
  if (ext == ".tsv" || ext == ".inter" || ext == ".item") return '\t';
  if (first_line.find('\t') != std::string::npos) return '\t';
  if (first_line.find(',') != std::string::npos) return ',';
  if (first_line.find(';') != std::string::npos) return ';';
  return ',';
}

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

// ---------------------------------------------------------------- item tables

void attach_item(DatasetBuilder& b, LoadReport& rep, const std::string& item, const std::vector<std::string>& cats,
                 const std::string& text) {
  ++rep.item_rows;
  if (!b.dataset().items.contains(item)) {
    ++rep.item_rows_unmatched;
    return;
  }
  b.set_item_info(item, cats, tokenize(text), text);
}

/// The 1-based line of each top-level key of a JSON object (the text is valid JSON already), so
/// errors about one item can name its line.
std::unordered_map<std::string, std::int64_t> json_key_lines(const std::string& text) {
  std::unordered_map<std::string, std::int64_t> lines;
  std::int64_t line = 1;
  int depth = 0;
  bool expect_key = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (depth == 1 && expect_key) lines.emplace(text.substr(i + 1, j - i - 1), line);
      expect_key = false;
      i = j;
    } else if (c == '{' || c == '[') {
      ++depth;
      expect_key = depth == 1 && c == '{';
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return lines;
}

// {"item": [attribute, ...], ...} (the S3-Rec/Amazon item2attributes files), or
// {"item": {"categories": [...], "text": "..."}, ...}. Attributes may be numbers or strings.
void read_json_item_table(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    const auto* pe = dynamic_cast<const nlohmann::json::parse_error*>(&e);
    const auto upto = std::min<std::size_t>(pe ? pe->byte : 0, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(upto), '\n');
    throw ParseError(path, line, "json", e.what());
  }
  if (!j.is_object()) throw ParseError(path, 1, "json", "expected an object mapping item ids to attribute lists");
  if (j.empty()) throw InvalidInput(path + ": the item table has no items");
  const auto lines = json_key_lines(text);
  for (const auto& [item, value] : j.items()) {
    const auto at = lines.find(item);
    const std::int64_t line = at == lines.end() ? 1 : at->second;
    auto as_names = [&](const nlohmann::json& list) {
      std::vector<std::string> out;
      if (!list.is_array()) throw ParseError(path, line, item, "expected a list of attributes");
      for (const auto& a : list) {
        if (a.is_string())
          out.push_back(check_text(a.get<std::string>(), path, line, item));
        else if (a.is_number_integer())
          out.push_back(std::to_string(a.get<long long>()));
        else
          throw ParseError(path, line, item, "attributes must be strings or integers");
      }
      return out;
    };
    try {
      const auto id = require_id(item, path, line, "item");
      if (value.is_array()) {
        attach_item(b, rep, id, as_names(value), "");
      } else if (value.is_object()) {
        std::vector<std::string> cats;
        for (const char* key : {"categories", "attributes"})
          if (value.contains(key)) {
            auto more = as_names(value.at(key));
            cats.insert(cats.end(), more.begin(), more.end());
          }
        std::string t;
        for (const char* key : {"text", "title"})
          if (value.contains(key) && value.at(key).is_string())
            t = check_text(value.at(key).get<std::string>(), path, line, key);
        attach_item(b, rep, id, cats, t);
      } else {
        throw ParseError(path, line, item, "expected a list of attributes or an object");
      }
    } catch (const ParseError& e) {
      errs.reject(e, item);
    }
  }
}

void read_item_table(const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep,
                     RowErrors& errs) {
  rep.files.push_back(path);
  const std::string name = lower(fs::path(path).filename().string());
  if (lower(fs::path(path).extension().string()) == ".json") {
    read_json_item_table(path, b, rep, errs);
    return;
  }
  LineInput in(path);
  std::string line;
  const auto rows_before = rep.item_rows;
  // Each row: parse and attach; a malformed row goes to RowErrors (fail, or skip with --on-error).
  auto each_row = [&](const std::function<void(const std::string&)>& row) {
    while (in.next(line)) {
      try {
        row(line);
      } catch (const ParseError& e) {
        errs.reject(e, line);
      }
    }
  };
  if (name == "u.item") {
    // id|title|release date|video release date|url|19 genre flags (MovieLens 100K, Latin-1)
    static const std::vector<std::string> genres = {"unknown",   "Action",   "Adventure",   "Animation", "Children's",
                                                    "Comedy",    "Crime",    "Documentary", "Drama",     "Fantasy",
                                                    "Film-Noir", "Horror",   "Musical",     "Mystery",   "Romance",
                                                    "Sci-Fi",    "Thriller", "War",         "Western"};
    each_row([&](const std::string& l) {
      const auto f = split_on(to_utf8(l), "|");
      if (f.size() < 5 + genres.size())
        throw ParseError(path, in.line_no(), "row",
                         "expected 24 '|'-separated fields, got " + std::to_string(f.size()));
      std::vector<std::string> cats;
      for (std::size_t g = 0; g < genres.size(); ++g)
        if (trim(f[5 + g]) == "1") cats.push_back(genres[g]);
      attach_item(b, rep, require_id(f[0], path, in.line_no(), "item"), cats,
                  check_text(f[1], path, in.line_no(), "title"));
    });
  } else if (lower(fs::path(path).extension().string()) == ".dat") {  // movies.dat: id::title::g1|g2
    each_row([&](const std::string& l) {
      const auto f = split_on(to_utf8(l), "::");
      if (f.size() != 3)
        throw ParseError(path, in.line_no(), "row",
                         "expected id::title::genres, got " + std::to_string(f.size()) + " fields");
      attach_item(b, rep, require_id(f[0], path, in.line_no(), "item"),
                  split_on(check_text(f[2], path, in.line_no(), "genres"), "|"),
                  check_text(f[1], path, in.line_no(), "title"));
    });
  } else {
    // Delimited with a header (csv/tsv, RecBole .item).
    if (!in.next(line)) throw InvalidInput(path + ": the item table is empty");
    const char delim = detect_delimiter(path, line, opt.delimiter);
    bool unterminated = false;
    const auto header = split_delimited(line, delim, delim != '\t', &unterminated);
    check_header(header, path, in.line_no());
    const int c_item = find_column(header, "item", "", path);
    if (c_item < 0) throw InvalidInput(path + ": item table has no item column (item/item_id)");
    const int c_cat = find_column(header, "category", "", path);
    const int c_text = find_column(header, "text", "", path);
    each_row([&](const std::string& l) {
      const auto f = split_delimited(l, delim, delim != '\t', &unterminated);
      if (unterminated) throw ParseError(path, in.line_no(), "row", "unterminated quoted field");
      if (f.size() != header.size())
        throw ParseError(path, in.line_no(), "row",
                         "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(f.size()));
      const auto col = [&](int c) { return f[static_cast<std::size_t>(c)]; };
      const auto item =
          require_id(col(c_item), path, in.line_no(), bare_name(header[static_cast<std::size_t>(c_item)]));
      attach_item(
          b, rep, item,
          c_cat >= 0 ? split_list(check_text(col(c_cat), path, in.line_no(), "category")) : std::vector<std::string>{},
          c_text >= 0 ? check_text(col(c_text), path, in.line_no(), "text") : "");
    });
  }
  if (rep.item_rows == rows_before && in.line_no() <= 1) throw InvalidInput(path + ": the item table has no rows");
}

// ---------------------------------------------------------------- detection

std::string first_data_line(const std::string& path, int skip = 0) {
  LineInput in(path);
  std::string line;
  for (int i = 0; i <= skip; ++i)
    if (!in.next(line)) return "";
  return line;
}

bool looks_like_header(const std::vector<std::string>& fields) {
  for (const auto& f : fields) {
    const auto n = bare_name(f);
    for (const auto& [role, names] : aliases())
      if (std::find(names.begin(), names.end(), n) != names.end()) return true;
  }
  return false;
}

/// Whitespace-separated ids: "pairs" when the first 200 lines all have two fields, "sequence" when
/// at most half do. A mix in between is a pairs file with bad rows or a sequence file of very short
/// histories; guessing would silently turn bad rows into data, so it is refused.
std::string pairs_or_sequence(const std::string& path) {
  LineInput in(path);
  std::string line;
  int lines = 0, two = 0;
  std::int64_t first_other = 0;
  std::size_t other_fields = 0;
  for (; lines < 200 && in.next(line); ++lines) {
    const auto n = split_ws(line).size();
    if (n == 2) {
      ++two;
    } else if (first_other == 0) {
      first_other = in.line_no();
      other_fields = n;
    }
  }
  if (two == lines) return "pairs";
  if (2 * two <= lines) return "sequence";
  throw InvalidInput(
      path + ":" + std::to_string(first_other) + ": has " + std::to_string(other_fields) + " fields while " +
      std::to_string(two) + " of the first " + std::to_string(lines) +
      " lines have 2: a pairs file with a bad row, or a sequence file? Pass --format pairs or --format sequence");
}

/// Text files only: a NUL byte in the first 64 KiB means binary data (or UTF-16), not a log.
void require_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(65536, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find('\0') != std::string::npos)
    throw InvalidInput(
        path + ": holds NUL bytes: a binary file, not a text data file (UTF-16 text must be converted to UTF-8)");
}

/// --rejects must not name an input file: appending rejected rows to it would change the data.
void check_rejects_path(const ReadOptions& opt, const std::vector<std::string>& inputs) {
  if (opt.on_error != OnError::kSkip || opt.rejects_path.empty() || !fs::exists(opt.rejects_path)) return;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (!in.empty() && fs::equivalent(opt.rejects_path, in, ec))
      throw InvalidInput(opt.rejects_path +
                         ": --rejects names an input file; rejected rows would be appended to the data");
  }
}

struct Resolved {
  std::string format;
  std::string events;
  std::string items;
};

Resolved resolve(const std::string& path, const std::string& format, bool columns_given = false) {
  if (!fs::exists(path)) throw NotFound(path + ": no such file or directory");
  Resolved r{format, path, ""};
  if (fs::is_directory(path)) {
    const fs::path d(path);
    auto has = [&](const char* n) { return fs::exists(d / n); };
    if (has("events.csv")) {
      r = {"csv", (d / "events.csv").string(), has("items.csv") ? (d / "items.csv").string() : ""};
    } else if (has("u.data")) {
      r = {"movielens", (d / "u.data").string(), has("u.item") ? (d / "u.item").string() : ""};
    } else if (has("ratings.dat")) {
      r = {"movielens", (d / "ratings.dat").string(), has("movies.dat") ? (d / "movies.dat").string() : ""};
    } else if (has("UserBehavior.csv")) {
      r = {"taobao", (d / "UserBehavior.csv").string(), ""};
    } else {
      for (const auto& e : fs::directory_iterator(d)) {
        if (e.path().extension() == ".inter") {
          auto item = e.path();
          item.replace_extension(".item");
          r = {"recbole", e.path().string(), fs::exists(item) ? item.string() : ""};
          break;
        }
      }
      if (r.events == path)
        throw InvalidInput(
            path + ": directory holds no known data file (events.csv, *.inter, u.data, ratings.dat, UserBehavior.csv)");
    }
    if (format != "auto" && format != r.format)
      throw InvalidInput(path + ": --format " + format + " given, but the directory holds " + r.format + " files");
    return r;
  }
  const fs::path p(path);
  const std::string name = lower(p.filename().string());
  const std::string ext = lower(p.extension().string());
  auto sibling = [&](const char* n) {
    const auto s = p.parent_path() / n;
    return fs::exists(s) ? s.string() : std::string();
  };
  if (format == "auto") {
    if (ext == ".inter") {
      r.format = "recbole";
    } else if (columns_given) {  // explicit column mapping: a delimited file
      const std::string l1 = first_data_line(path);
      r.format = (l1.find('\t') != std::string::npos || ext == ".tsv") ? "tsv" : "csv";
    } else if (name == "u.data" || name == "ratings.dat") {
      r.format = "movielens";
    } else {
      const std::string l1 = first_data_line(path);
      if (l1.empty()) throw InvalidInput(path + ": file is empty");
      bool unterminated = false;
      const auto comma = split_delimited(l1, ',', true, &unterminated);
      const auto tabs = split_delimited(l1, '\t', false, &unterminated);
      const auto ws = split_ws(l1);
      if (l1.find("::") != std::string::npos) {
        r.format = "movielens";
      } else if (looks_like_header(comma) || looks_like_header(tabs)) {
        r.format = (tabs.size() > comma.size()) ? "tsv" : "csv";
      } else if (comma.size() == 5) {
        const auto b = lower(trim(comma[3]));
        if (b == "pv" || b == "cart" || b == "fav" || b == "buy")
          r.format = "taobao";
        else
          throw InvalidInput(path + ": cannot tell the format of a headerless 5-column CSV; pass --format");
      } else if (tabs.size() == 4 && is_integer(tabs[0]) && is_integer(tabs[3])) {
        r.format = "movielens";
      } else if (ws.size() >= 2 && comma.size() == 1) {
        r.format = pairs_or_sequence(path);
      } else {
        throw InvalidInput(path +
                           ": cannot detect the format; pass --format csv|tsv|recbole|sequence|pairs|movielens|taobao");
      }
    }
  }
  if (r.format == "recbole") {
    auto item = p;
    item.replace_extension(".item");
    if (fs::exists(item)) r.items = item.string();
  } else if (r.format == "movielens") {
    r.items = name == "ratings.dat" ? sibling("movies.dat") : sibling("u.item");
  }
  static const char* kFormats[] = {"csv", "tsv", "recbole", "sequence", "pairs", "movielens", "taobao"};
  if (std::find(std::begin(kFormats), std::end(kFormats), r.format) == std::end(kFormats))
    throw InvalidInput("unknown format '" + r.format +
                       "' (csv, tsv, recbole, sequence, pairs, movielens, taobao, auto)");
  return r;
}

}  // namespace

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::int64_t parse_timestamp(const std::string& t) {
  if (t.empty()) throw InvalidInput("empty timestamp");
  // |ts| <= 1e15 (seconds or milliseconds since 1970): differences of two timestamps never overflow.
  constexpr std::int64_t kMaxAbs = 1000000000000000;
  const auto out_of_range = [&] {
    return InvalidInput("'" + t + "' is out of range (at most 1e15 in absolute value)");
  };
  std::int64_t v = 0;
  const char* end = t.data() + t.size();
  auto res = std::from_chars(t.data(), end, v);
  if (res.ptr == end && res.ec == std::errc::result_out_of_range) throw out_of_range();
  if (res.ec == std::errc() && res.ptr == end) {
    if (v > kMaxAbs || v < -kMaxAbs) throw out_of_range();
    return v;
  }
  char* dend = nullptr;
  const double d = std::strtod(t.c_str(), &dend);
  if (dend == t.c_str() + t.size()) {
    if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(kMaxAbs)) throw out_of_range();
    return static_cast<std::int64_t>(std::floor(d));
  }
  // ISO 8601: YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z]
  int Y = 0, M = 0, D = 0, h = 0, m = 0, s = 0;
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &Y, &M, &D, &consumed) == 3 && consumed == 10) {
    std::string rest = t.substr(10);
    if (!rest.empty()) {
      int c2 = 0;
      if ((rest[0] != 'T' && rest[0] != ' ') || std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &h, &m, &c2) != 2)
        throw InvalidInput("'" + t + "' is not a timestamp (seconds or YYYY-MM-DD[ HH:MM:SS])");
      rest = rest.substr(1 + static_cast<std::size_t>(c2));
      if (!rest.empty() && rest[0] == ':') {
        int c3 = 0;
        if (std::sscanf(rest.c_str() + 1, "%2d%n", &s, &c3) != 1)
          throw InvalidInput("'" + t + "' has a malformed seconds field");
        rest = rest.substr(1 + static_cast<std::size_t>(c3));
        if (!rest.empty() && rest[0] == '.') {
          std::size_t k = 1;
          while (k < rest.size() && std::isdigit(static_cast<unsigned char>(rest[k]))) ++k;
          rest = rest.substr(k);
        }
      }
      if (rest == "Z" || rest == "+00:00") rest.clear();
      if (!rest.empty()) throw InvalidInput("'" + t + "': only UTC timestamps are supported (suffix Z)");
    }
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (Y < 1 || M < 1 || M > 12 || D < 1 || D > kDays[M - 1] + (M == 2 && leap) || h < 0 || h > 23 || m < 0 ||
        m > 59 || s < 0 || s > 60)
      throw InvalidInput("'" + t + "' is not a valid date-time");
    std::tm tm{};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    return static_cast<std::int64_t>(timegm(&tm));
  }
  throw InvalidInput("'" + t + "' is not a timestamp (seconds or YYYY-MM-DD[ HH:MM:SS])");
}

std::string detect_format(const std::string& path) { return resolve(path, "auto").format; }

Dataset load_dataset(const std::string& path, const ReadOptions& opt, LoadReport* report) {
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  rep = LoadReport{};
  const auto& c = opt.columns;
  const bool columns_given = !(c.user + c.item + c.timestamp + c.behavior + c.value + c.category + c.domain).empty();
  const Resolved r = resolve(path, opt.format, columns_given || !opt.header);
  rep.format = r.format;
  rep.files.push_back(r.events);
  const std::string items = !opt.items_path.empty() ? opt.items_path : r.items;
  check_rejects_path(opt, {r.events, items});
  if (fs::is_regular_file(r.events)) require_text_file(r.events);
  DatasetBuilder b;
  b.dataset().name = path;
  ItemSide side;
  RowErrors errs(opt, rep);
  if (r.format == "csv" || r.format == "tsv") {
    ReadOptions o = opt;
    if (r.format == "tsv" && !o.delimiter) o.delimiter = '\t';
    read_delimited_events(r.events, o, b, rep, errs, side, false);
  } else if (r.format == "recbole") {
    ReadOptions o = opt;
    o.delimiter = '\t';
    read_delimited_events(r.events, o, b, rep, errs, side, true);
  } else if (r.format == "sequence") {
    read_sequence_events(r.events, b, rep, errs);
  } else if (r.format == "pairs") {
    read_pair_events(r.events, b, rep, errs);
  } else if (r.format == "movielens") {
    read_movielens_events(r.events, b, rep, errs);
  } else if (r.format == "taobao") {
    read_taobao_events(r.events, b, rep, errs, side);
  }
  if (rep.rows_loaded == 0) throw InvalidInput(r.events + ": no valid events were read");
  for (const auto& item : side.order) b.set_item_info(item, side.categories.at(item), {}, "");
  if (!items.empty()) {
    if (fs::is_regular_file(items) && lower(fs::path(items).extension().string()) != ".json") require_text_file(items);
    read_item_table(items, opt, b, rep, errs);
  }
  return b.finish();
}

std::vector<std::string> split_categories(const std::string& s) { return split_list(s); }

char parse_delimiter(const std::string& spec) {
  if (spec == "tab" || spec == "\\t") return '\t';
  if (spec.size() == 1) return spec[0];
  if (!spec.empty()) throw InvalidInput("delimiter must be one character or 'tab', not '" + spec + "'");
  return 0;
}

}  // namespace driftrec::data
