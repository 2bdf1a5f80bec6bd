#include "driftrec/data/readers.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "driftrec/core/error.h"
#include "read_support.h"

namespace fs = std::filesystem;

namespace driftrec::data {

using namespace detail;  // NOLINT: the readers' internal helpers

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
  read_events(r, opt, b, rep, errs, side);
  if (rep.rows_loaded == 0) throw InvalidInput(r.events + ": no valid events were read");
  for (const auto& item : side.order) b.set_item_info(item, side.categories.at(item), {}, "");
  if (!items.empty()) {
    if (fs::is_regular_file(items) && lower(fs::path(items).extension().string()) != ".json") require_text_file(items);
    read_item_table(items, opt, b, rep, errs);
  }
  return b.finish();
}

std::vector<std::string> split_categories(const std::string& s) { return split_list(s); }

std::vector<std::string> format_names() { return detail::format_names(); }

char parse_delimiter(const std::string& spec) {
  if (spec == "tab" || spec == "\\t") return '\t';
  if (spec.size() == 1) return spec[0];
  if (!spec.empty()) throw InvalidInput("delimiter must be one character or 'tab', not '" + spec + "'");
  return 0;
}

}  // namespace driftrec::data
