// Field parsing and column helpers shared by the readers.
#include "read_support.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "driftrec/core/text.h"

namespace driftrec::data::detail {

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

char detect_delimiter(const std::string& path, const std::string& first_line, char given) {
  if (given) return given;
  const auto ext = lower(fs::path(path).extension().string());
  if (ext == ".tsv" || ext == ".inter" || ext == ".item") return '\t';
  if (first_line.find('\t') != std::string::npos) return '\t';
  if (first_line.find(',') != std::string::npos) return ',';
  if (first_line.find(';') != std::string::npos) return ';';
  return ',';
}

}  // namespace driftrec::data::detail
