#pragma once
// Readers for behaviour logs and item tables. Every reader validates each row; a malformed row
// stops the load with a ParseError naming file, line and field, unless OnError::kSkip is chosen,
// in which case the row is counted, written to a rejects file and skipped.
//
// Formats (ReadOptions::format):
//   csv / tsv   delimited text with a header; columns found by name (aliases) or mapped explicitly
//   recbole     RecBole atomic files: NAME.inter (+ NAME.item), headers "field:type"
//   sequence    "user item1 item2 ..." per line, in time order (Amazon/S3Rec benchmark files)
//   pairs       "user item" per line, in time order per user (SASRec files)
//   movielens   u.data (tab) or ratings.dat ("::"), with u.item / movies.dat titles and genres
//   taobao      Taobao UserBehavior CSV: user,item,category,behavior,ts (pv/cart/fav/buy)
//   given       a split shipped with the data: a directory with a training file (train.txt or
//               *train*), an optional validation file (valid.txt, tune.txt, *valid*, *tune*) and a
//               test file (test.txt or *test*); a line with a tab is "user<TAB>item[<TAB>value]",
//               otherwise "user item item ..." (LightGCN's Gowalla/Yelp2018/Amazon-book files,
//               CPFair's splits). Events are timed by position: training from 0, validation from
//               kGivenValidStart, test from kGivenTestStart (the `given` split cuts there)
//   auto        decided from the file name and its first lines (a directory is searched for
//               events.csv, *.inter, u.data, ratings.dat, UserBehavior.csv or train + test files)
#include <cstdint>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::data {

/// Timestamps of the `given` format's validation and test events (positions added): the `given`
/// split (data::make_split) cuts there.
constexpr std::int64_t kGivenValidStart = 1'000'000'000'000;
constexpr std::int64_t kGivenTestStart = 2'000'000'000'000;

enum class OnError { kFail, kSkip };

/// Column names (or 0-based indices written as digits) for csv/tsv files; empty = detect by alias.
struct ColumnMap {
  std::string user, item, timestamp, behavior, value, category, domain;
};

struct ReadOptions {
  std::string format = "auto";
  ColumnMap columns;
  char delimiter = 0;  ///< 0 = detect (tab for .tsv or tab-containing header, else ',')
  bool header = true;  ///< csv/tsv: first line names the columns
  OnError on_error = OnError::kFail;
  std::string rejects_path;  ///< kSkip: rejected rows go here as "line<TAB>problem<TAB>raw" ("" = none)
  std::string items_path;    ///< optional item table (csv/tsv, RecBole .item, u.item, movies.dat)
};

struct LoadReport {
  std::string format;                     ///< format actually used
  std::vector<std::string> files;         ///< files read
  std::int64_t rows_read = 0;             ///< data rows seen in event files (blank lines excluded)
  std::int64_t rows_loaded = 0;           ///< events kept
  std::int64_t rows_rejected = 0;         ///< malformed rows skipped (kSkip)
  std::vector<std::string> first_errors;  ///< up to 5 messages of rejected rows
  std::string rejects_path;
  std::int64_t item_rows = 0;            ///< rows read from the item table
  std::int64_t item_rows_unmatched = 0;  ///< item-table rows whose item has no event (ignored)
};

/// Loads events (and the item table, when given or found beside the data) from a file or directory.
Dataset load_dataset(const std::string& path, const ReadOptions& options = {}, LoadReport* report = nullptr);

/// Every format load_dataset reads (ReadOptions::format also takes "auto").
std::vector<std::string> format_names();

/// The format "auto" resolves to for `path` (without loading it). Throws NotFound / InvalidInput.
std::string detect_format(const std::string& path);

/// Splits one delimited line into fields; with `quotes`, RFC 4180 quoting within the line
/// ("a, b" and doubled quotes); `*unterminated` is set when a quoted field does not close.
std::vector<std::string> split_delimited(const std::string& line, char delim, bool quotes, bool* unterminated);

/// A category list as the readers split it: on '|', ',', ';' or whitespace; empty parts dropped.
std::vector<std::string> split_categories(const std::string& s);

/// ReadOptions::delimiter from its spelling: "" = detect (0), one character, or "tab" / "\\t".
/// Throws InvalidInput otherwise.
char parse_delimiter(const std::string& spec);

/// Lower-cases ASCII and splits on anything that is not a letter, digit or non-ASCII byte.
std::vector<std::string> tokenize(const std::string& text);

/// Parses a timestamp field: integer or decimal seconds, or ISO 8601 "YYYY-MM-DD[ T]HH:MM:SS[Z]"
/// / "YYYY-MM-DD" (UTC). Throws InvalidInput describing the problem.
std::int64_t parse_timestamp(const std::string& text);

}  // namespace driftrec::data
