// Item tables: JSON attribute maps, MovieLens u.item / movies.dat, csv/tsv/RecBole .item.
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "read_support.h"

namespace driftrec::data::detail {

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

}  // namespace driftrec::data::detail
