#pragma once
// Internal to the readers (src/data/read_*.cpp): line input, row-error policy, field parsing,
// column aliases, and one reader function per format. Not a public header.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "driftrec/core/error.h"
#include "driftrec/data/dataset.h"
#include "driftrec/data/readers.h"

namespace driftrec::data::detail {

namespace fs = std::filesystem;

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

struct ItemSide {  // categories attached from event rows (csv with a category column, taobao)
  std::unordered_map<std::string, std::vector<std::string>> categories;
  std::vector<std::string> order;  // items in order of first appearance, for stable category indices
  bool has(const std::string& item) const { return categories.count(item) > 0; }
  void set(const std::string& item, std::vector<std::string> cats) {
    order.push_back(item);
    categories.emplace(item, std::move(cats));
  }
};

// ---------------------------------------------------------------- field parsing (read_support.cpp)

std::string lower(std::string s);
std::string trim(const std::string& s);
std::vector<std::string> split_ws(const std::string& line);
std::vector<std::string> split_on(const std::string& s, const std::string& sep);
bool is_integer(const std::string& s);
float parse_value(const std::string& s, const std::string& file, std::int64_t line, const std::string& field);
/// A label (behaviour, domain, category): printable UTF-8; "" allowed.
std::string check_text(std::string t, const std::string& file, std::int64_t line, const std::string& field);
std::string require_id(const std::string& s, const std::string& file, std::int64_t line, const std::string& field);
std::int64_t parse_ts_field(const std::string& s, const std::string& file, std::int64_t line, const std::string& field);
/// Latin-1 -> UTF-8 when the bytes are not valid UTF-8 already (MovieLens files are Latin-1).
std::string to_utf8(const std::string& s);
/// Column-name aliases by role (user, item, timestamp, behavior, value, category, domain, text).
const std::unordered_map<std::string, std::vector<std::string>>& aliases();
/// Column name without a RecBole ":type" suffix, lower-cased.
std::string bare_name(const std::string& h);
/// Index of the column for `role`: explicit mapping (name or digits) first, then aliases; -1 if none.
int find_column(const std::vector<std::string>& header, const std::string& role, const std::string& explicit_name,
                const std::string& file);
/// A header naming one column twice is ambiguous: refused.
void check_header(const std::vector<std::string>& header, const std::string& file, std::int64_t line);
std::string explicit_for(const ColumnMap& c, const std::string& role);
/// Category lists: '|', ',', ';' or whitespace separated.
std::vector<std::string> split_list(const std::string& s);
char detect_delimiter(const std::string& path, const std::string& first_line, char given);

// ---------------------------------------------------------------- one reader per format

/// csv/tsv with a header (or positional columns), and RecBole .inter (`recbole`).
void read_delimited_events(const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep,
                           RowErrors& errs, ItemSide& side, bool recbole);
/// "user item1 item2 ..." per line (S3-Rec/SASRec files).
void read_sequence_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs);
/// "user item" per line, in order.
void read_pair_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs);
/// u.data (tab) or ratings.dat ("::").
void read_movielens_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs);
/// Taobao UserBehavior.csv (user,item,category,behavior,timestamp).
void read_taobao_events(const std::string& path, DatasetBuilder& b, LoadReport& rep, RowErrors& errs, ItemSide& side);
/// A directory's given split: train / validation (optional) / test files (format `given`).
struct GivenFiles {
  std::string train, valid, test;
};
/// The split files of `dir` ("" for a role without a file). Throws InvalidInput when a role has two.
GivenFiles given_files(const std::string& dir);
void read_given_events(const std::string& dir, DatasetBuilder& b, LoadReport& rep, RowErrors& errs);
/// Item tables: JSON, u.item, movies.dat, csv/tsv/RecBole .item with a header.
void read_item_table(const std::string& path, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep,
                     RowErrors& errs);

// ---------------------------------------------------------------- detection (formats.cpp)

struct Resolved {
  std::string format;
  std::string events;
  std::string items;
};
/// Resolves "auto" and directories to a format, the events file and the item table beside it.
Resolved resolve(const std::string& path, const std::string& format, bool columns_given = false);
/// Text files only: a NUL byte in the first 64 KiB means binary data.
void require_text_file(const std::string& path);
/// --rejects must not name an input file.
void check_rejects_path(const ReadOptions& opt, const std::vector<std::string>& inputs);
/// The registered formats, in registry order.
std::vector<std::string> format_names();
/// Reads the events of `r.format` from `r.events` (the format registry's dispatch).
void read_events(const Resolved& r, const ReadOptions& opt, DatasetBuilder& b, LoadReport& rep, RowErrors& errs,
                 ItemSide& side);

}  // namespace driftrec::data::detail
