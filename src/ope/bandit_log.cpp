#include "driftrec/ope/bandit_log.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <unordered_map>

#include "driftrec/core/error.h"
#include "driftrec/data/readers.h"

namespace driftrec::ope {

namespace {

bool parse_double(const std::string& text, double* out) {
  const char* b = text.data();
  const char* e = b + text.size();
  while (b < e && *b == ' ') ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\r')) --e;
  if (b == e) return false;
  if (*b == '+') ++b;
  const auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(*out);
}

bool parse_int(const std::string& text, std::int64_t* out) {
  const char* b = text.data();
  const char* e = b + text.size();
  while (e > b && e[-1] == '\r') --e;
  const auto r = std::from_chars(b, e, *out);
  return b != e && r.ec == std::errc() && r.ptr == e;
}

/// The fixed columns of the layout, located by name in the header.
struct Layout {
  int timestamp = -1, item = -1, position = -1, click = -1, pscore = -1;
  std::vector<int> context;  ///< every other column except a leading unnamed index
};

Layout read_layout(const std::vector<std::string>& header, const std::string& path) {
  Layout l;
  for (int c = 0; c < static_cast<int>(header.size()); ++c) {
    std::string name = header[c];
    if (!name.empty() && name.back() == '\r') name.pop_back();
    for (int d = 0; d < c; ++d)
      if (header[d] == name) throw ParseError(path, 1, name, "column name appears twice in the header");
    if (name == "timestamp")
      l.timestamp = c;
    else if (name == "item_id")
      l.item = c;
    else if (name == "position")
      l.position = c;
    else if (name == "click")
      l.click = c;
    else if (name == "propensity_score")
      l.pscore = c;
    else if (!(c == 0 && name.empty()))
      l.context.push_back(c);
  }
  for (const auto& [col, name] : {std::pair<int, const char*>{l.item, "item_id"},
                                  {l.position, "position"},
                                  {l.click, "click"},
                                  {l.pscore, "propensity_score"}})
    if (col < 0) throw ParseError(path, 1, name, "the header has no such column (expected the Open Bandit layout)");
  return l;
}

std::string field_name(const std::vector<std::string>& header, int c) {
  return header[c] + " (column " + std::to_string(c + 1) + ")";
}

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

}  // namespace

void BanditLog::add(std::int32_t a, std::int32_t pos, float r, double p) {
  if (a < 0 || (n_actions > 0 && a >= n_actions))
    throw InvalidInput("action " + std::to_string(a) + " outside [0, " + std::to_string(n_actions) + ")");
  if (pos < 0 || (n_positions > 0 && pos >= n_positions))
    throw InvalidInput("position " + std::to_string(pos) + " outside [0, " + std::to_string(n_positions) + ")");
  if (!(p > 0.0 && p <= 1.0) || !std::isfinite(r))
    throw InvalidInput("propensity " + std::to_string(p) + " is outside (0, 1] (or the reward is not finite)");
  action.push_back(a);
  position.push_back(pos);
  reward.push_back(r);
  pscore.push_back(p);
}

double BanditLog::mean_reward() const {
  if (reward.empty()) return 0.0;
  double s = 0;
  for (float r : reward) s += r;
  return s / static_cast<double>(reward.size());
}

BanditLog read_obd_csv(const std::string& path, std::int32_t n_actions) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path);
  std::string line;
  if (!std::getline(in, line)) throw ParseError(path, 1, "header", "the file is empty");
  bool unterminated = false;
  const auto header = data::split_delimited(line, ',', true, &unterminated);
  const Layout l = read_layout(header, path);
  BanditLog log;
  std::vector<std::unordered_map<std::string, std::int32_t>> interned;
  std::vector<int> kind;  // per context column: 0 numeric, 1 categorical (decided on the first row)
  std::int64_t max_action = -1, max_position = -1;
  std::int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto f = data::split_delimited(line, ',', true, &unterminated);
    if (unterminated) throw ParseError(path, line_no, "row", "a quoted field is not closed");
    if (f.size() != header.size())
      throw ParseError(path, line_no, "row",
                       "expected " + std::to_string(header.size()) + " fields, found " + std::to_string(f.size()));
    std::int64_t item = 0, pos = 0;
    double click = 0, p = 0;
    if (!parse_int(f[l.item], &item) || item < 0 || item > INT32_MAX - 1)
      throw ParseError(path, line_no, field_name(header, l.item), "not a non-negative integer: '" + f[l.item] + "'");
    if (!parse_int(f[l.position], &pos) || pos < 1 || pos > 1024)
      throw ParseError(path, line_no, field_name(header, l.position),
                       "not a position in 1..1024: '" + f[l.position] + "'");
    if (!parse_double(f[l.click], &click))
      throw ParseError(path, line_no, field_name(header, l.click), "not a number: '" + f[l.click] + "'");
    if (!parse_double(f[l.pscore], &p) || !(p > 0.0 && p <= 1.0))
      throw ParseError(path, line_no, field_name(header, l.pscore),
                       "propensity must be in (0, 1], got '" + f[l.pscore] + "'");
    if (n_actions > 0 && item >= n_actions)
      throw ParseError(path, line_no, field_name(header, l.item),
                       "item " + std::to_string(item) + " outside the " + std::to_string(n_actions) + " actions");
    if (kind.empty()) {
      for (int c : l.context) {
        double v;
        const bool numeric = parse_double(f[c], &v);
        kind.push_back(numeric ? 0 : 1);
        (numeric ? log.numeric_names : log.categorical_names).push_back(header[c]);
      }
      log.numeric.resize(log.numeric_names.size());
      log.categorical.resize(log.categorical_names.size());
      log.categorical_values.resize(log.categorical_names.size());
      interned.resize(log.categorical_names.size());
    }
    std::size_t ni = 0, ci = 0;
    for (std::size_t k = 0; k < l.context.size(); ++k) {
      const int c = l.context[k];
      if (kind[k] == 0) {
        double v;
        if (!parse_double(f[c], &v))
          throw ParseError(path, line_no, field_name(header, c), "not a number: '" + f[c] + "'");
        log.numeric[ni++].push_back(static_cast<float>(v));
      } else {
        auto [it, fresh] = interned[ci].emplace(f[c], static_cast<std::int32_t>(log.categorical_values[ci].size()));
        if (fresh) log.categorical_values[ci].push_back(f[c]);
        log.categorical[ci++].push_back(it->second);
      }
    }
    log.action.push_back(static_cast<std::int32_t>(item));
    log.position.push_back(static_cast<std::int32_t>(pos - 1));
    log.reward.push_back(static_cast<float>(click));
    log.pscore.push_back(p);
    if (l.timestamp >= 0) log.timestamp.push_back(f[l.timestamp]);
    max_action = std::max(max_action, item);
    max_position = std::max(max_position, pos - 1);
  }
  if (log.size() == 0) throw ParseError(path, line_no, "row", "no logged rows after the header");
  log.n_actions = n_actions > 0 ? n_actions : static_cast<std::int32_t>(max_action + 1);
  log.n_positions = static_cast<std::int32_t>(max_position + 1);
  return log;
}

void write_obd_csv(const BanditLog& log, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("cannot write " + path);
  out << ",timestamp,item_id,position,click,propensity_score";
  for (const auto& n : log.categorical_names) out << ',' << n;
  for (const auto& n : log.numeric_names) out << ',' << n;
  out << '\n';
  char buf[64];
  for (std::size_t i = 0; i < log.size(); ++i) {
    out << i << ',' << (log.timestamp.empty() ? std::string() : csv_field(log.timestamp[i])) << ',' << log.action[i]
        << ',' << log.position[i] + 1 << ',' << log.reward[i] << ',';
    const auto r = std::to_chars(buf, buf + sizeof buf, log.pscore[i]);
    out.write(buf, r.ptr - buf);
    for (std::size_t c = 0; c < log.categorical.size(); ++c)
      out << ',' << csv_field(log.categorical_values[c][log.categorical[c][i]]);
    for (const auto& col : log.numeric) out << ',' << col[i];
    out << '\n';
  }
  if (!out.flush()) throw IoError("cannot write " + path);
}

}  // namespace driftrec::ope
