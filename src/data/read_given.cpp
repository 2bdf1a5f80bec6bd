// A split that comes with the data: train / (validation) / test files in one directory, as
// LightGCN's (train.txt, test.txt: "user item item ..." per line) and CPFair's
// (NAME_train.txt, NAME_tune.txt, NAME_test.txt: "user<TAB>item<TAB>rating" per line) are shipped.
#include <algorithm>

#include "read_support.h"

namespace driftrec::data::detail {

namespace {

/// The one file of `dir` whose lower-cased name is one of `exact` or contains one of `parts`
/// ("" when none); two candidates are ambiguous and refused.
std::string find_role_file(const fs::path& dir, const std::vector<std::string>& exact,
                           const std::vector<std::string>& parts, const char* role) {
  for (const auto& e : exact)
    if (fs::is_regular_file(dir / e)) return (dir / e).string();
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto name = lower(entry.path().filename().string());
    for (const auto& p : parts)
      if (name.find(p) != std::string::npos) {
        found.push_back(entry.path().string());
        break;
      }
  }
  std::sort(found.begin(), found.end());
  if (found.size() > 1)
    throw InvalidInput(dir.string() + ": more than one " + role + " file (" + found[0] + ", " + found[1] + ")");
  return found.empty() ? "" : found[0];
}

/// Reads one file of the split: a line with a tab is "user<TAB>item[<TAB>value]" (one event),
/// otherwise "user item item ..." (a user's items; a user alone is allowed). Events get
/// ts = `base` + the user's position in this file.
void read_split_file(const std::string& path, std::int64_t base, DatasetBuilder& b, LoadReport& rep, RowErrors& errs) {
  require_text_file(path);
  rep.files.push_back(path);
  LineInput in(path);
  std::string line;
  std::unordered_map<std::string, std::int64_t> pos;
  while (in.next(line)) {
    ++rep.rows_read;
    try {
      const bool row = line.find('\t') != std::string::npos;
      const auto f = row ? split_on(trim(line), "\t") : split_ws(line);
      const auto user = require_id(trim(f[0]), path, in.line_no(), "user");
      if (row) {
        if (f.size() < 2 || f.size() > 3)
          throw ParseError(path, in.line_no(), "row",
                           "expected 'user<TAB>item[<TAB>value]', got " + std::to_string(f.size()) + " fields");
        const auto item = require_id(trim(f[1]), path, in.line_no(), "item");
        const float value = f.size() == 3 ? parse_value(trim(f[2]), path, in.line_no(), "value") : 1.0f;
        b.add(user, item, base + pos[user]++, {}, value);
        ++rep.rows_loaded;
        continue;
      }
      for (std::size_t k = 1; k < f.size(); ++k) require_id(f[k], path, in.line_no(), "item " + std::to_string(k));
      for (std::size_t k = 1; k < f.size(); ++k) b.add(user, f[k], base + pos[user]++);
      rep.rows_loaded += static_cast<std::int64_t>(f.size() - 1);
    } catch (const ParseError& e) {
      errs.reject(e, line);
    }
  }
}

}  // namespace

GivenFiles given_files(const std::string& dir) {
  const fs::path d(dir);
  GivenFiles g;
  g.train = find_role_file(d, {"train.txt"}, {"train"}, "training");
  g.test = find_role_file(d, {"test.txt"}, {"test"}, "test");
  g.valid = find_role_file(d, {"valid.txt", "tune.txt"}, {"valid", "tune"}, "validation");
  return g;
}

void read_given_events(const std::string& dir, DatasetBuilder& b, LoadReport& rep, RowErrors& errs) {
  if (!fs::is_directory(dir))
    throw InvalidInput(dir + ": format 'given' reads a directory holding train and test files");
  const auto g = given_files(dir);
  if (g.train.empty() || g.test.empty())
    throw InvalidInput(dir +
                       ": format 'given' needs a training file (train.txt or *train*) and a test file "
                       "(test.txt or *test*)");
  b.dataset().has_clock = false;
  rep.files.clear();
  read_split_file(g.train, 0, b, rep, errs);
  if (!g.valid.empty()) read_split_file(g.valid, kGivenValidStart, b, rep, errs);
  read_split_file(g.test, kGivenTestStart, b, rep, errs);
}

}  // namespace driftrec::data::detail
