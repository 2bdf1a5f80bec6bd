// Format detection and the format registry: which reader reads which format.
#include <algorithm>

#include "read_support.h"

namespace driftrec::data::detail {

namespace {

/// The format registry: each format's name and the reader that reads its events. Adding a format
/// is a reader function and a line here (detection in resolve() when it can be recognised).
struct FormatReader {
  const char* name;
  void (*read)(const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
               ItemSide& side);
};

const std::vector<FormatReader>& registry() {
  static const std::vector<FormatReader> formats = {
      {"csv", [](const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                 ItemSide& side) { read_delimited_events(path, opt, b, rep, errs, side, false); }},
      {"tsv",
       [](const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
          ItemSide& side) {
         ReadOptions o = opt;
         if (!o.delimiter) o.delimiter = '\t';
         read_delimited_events(path, o, b, rep, errs, side, false);
       }},
      {"recbole",
       [](const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
          ItemSide& side) {
         ReadOptions o = opt;
         o.delimiter = '\t';
         read_delimited_events(path, o, b, rep, errs, side, true);
       }},
      {"sequence", [](const std::string& path, const ReadOptions&, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                      ItemSide&) { read_sequence_events(path, b, rep, errs); }},
      {"pairs", [](const std::string& path, const ReadOptions&, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                   ItemSide&) { read_pair_events(path, b, rep, errs); }},
      {"movielens", [](const std::string& path, const ReadOptions&, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                       ItemSide&) { read_movielens_events(path, b, rep, errs); }},
      {"given", [](const std::string& path, const ReadOptions&, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                   ItemSide&) { read_given_events(path, b, rep, errs); }},
      {"taobao", [](const std::string& path, const ReadOptions&, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                    ItemSide& side) { read_taobao_events(path, b, rep, errs, side); }},
  };
  return formats;
}

bool known_format(const std::string& name) {
  for (const auto& f : registry())
    if (name == f.name) return true;
  return false;
}

std::string format_list() {
  std::string out;
  for (const auto& f : registry()) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

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
}  // namespace

void read_events(const Resolved& r, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                 ItemSide& side) {
  for (const auto& f : registry())
    if (r.format == f.name) return f.read(r.events, opt, b, rep, errs, side);
  throw InvalidInput("unknown format '" + r.format + "' (" + format_list() + ", auto)");
}

std::vector<std::string> format_names() {
  std::vector<std::string> out;
  for (const auto& f : registry()) out.emplace_back(f.name);
  return out;
}

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

namespace {

/// A data directory: the format and files its known file names say.
Resolved resolve_directory(const std::string& path, const std::string& format) {
  Resolved r{format, path, ""};
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
  } else if (const auto g = given_files(path); !g.train.empty() && !g.test.empty()) {
    r = {"given", path, ""};
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
      throw InvalidInput(path +
                         ": directory holds no known data file (events.csv, *.inter, u.data, ratings.dat, "
                         "UserBehavior.csv, train + test files)");
  }
  if (format != "auto" && format != r.format)
    throw InvalidInput(path + ": --format " + format + " given, but the directory holds " + r.format + " files");
  return r;
}

}  // namespace

Resolved resolve(const std::string& path, const std::string& format, bool columns_given) {
  if (!fs::exists(path)) throw NotFound(path + ": no such file or directory");
  Resolved r{format, path, ""};
  if (fs::is_directory(path)) return resolve_directory(path, format);
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
        throw InvalidInput(path + ": cannot detect the format; pass --format (" + format_list() + ")");
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
  if (!known_format(r.format)) throw InvalidInput("unknown format '" + r.format + "' (" + format_list() + ", auto)");
  return r;
}

}  // namespace driftrec::data::detail
