#include "driftrec/data/stats.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <sstream>

namespace driftrec::data {

namespace {
double percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  // Nearest-rank percentile.
  const auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)]);
}
std::string iso_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

nlohmann::json dataset_stats(const Dataset& ds) {
  const auto& log = ds.log;
  nlohmann::json j;
  const auto users = ds.users.count(), items = ds.items.count();
  const auto events = static_cast<std::int64_t>(log.size());
  j["name"] = ds.name;
  j["users"] = users;
  j["items"] = items;
  j["events"] = events;
  j["density"] = users > 0 && items > 0 ? static_cast<double>(events) / (static_cast<double>(users) * items) : 0.0;
  nlohmann::json beh = nlohmann::json::object();
  std::vector<std::int64_t> bc(static_cast<std::size_t>(ds.behaviors.size()), 0);
  for (auto b : log.behavior) ++bc[static_cast<std::size_t>(b)];
  for (std::int32_t b = 0; b < ds.behaviors.size(); ++b)
    if (bc[static_cast<std::size_t>(b)] > 0) beh[ds.behaviors.name(b)] = bc[static_cast<std::size_t>(b)];
  j["behaviors"] = beh;
  if (ds.domains.size() > 1) {
    nlohmann::json dom = nlohmann::json::object();
    std::vector<std::int64_t> dc(static_cast<std::size_t>(ds.domains.size()), 0);
    for (auto d : log.domain) ++dc[static_cast<std::size_t>(d)];
    for (std::int32_t d = 0; d < ds.domains.size(); ++d)
      if (dc[static_cast<std::size_t>(d)] > 0)
        dom[d == 0 ? "(none)" : ds.domains.name(d)] = dc[static_cast<std::size_t>(d)];
    j["domains"] = dom;
  }
  j["has_clock"] = ds.has_clock;
  if (events > 0) {
    const auto [mn, mx] = std::minmax_element(log.ts.begin(), log.ts.end());
    j["time"] = {{"min", *mn}, {"max", *mx}};
    if (ds.has_clock) {
      j["time"]["min_iso"] = iso_time(*mn);
      j["time"]["max_iso"] = iso_time(*mx);
      j["time"]["days"] = static_cast<double>(*mx - *mn) / 86400.0;
    }
  }
  std::vector<std::int64_t> len;
  for (std::int32_t u = 1; u < ds.n_users(); ++u) len.push_back(log.user_length(u));
  std::sort(len.begin(), len.end());
  double mean = 0;
  for (auto l : len) mean += static_cast<double>(l);
  mean = len.empty() ? 0.0 : mean / static_cast<double>(len.size());
  j["sequence_length"] = {{"min", len.empty() ? 0 : len.front()}, {"p50", percentile(len, 50)},
                          {"p90", percentile(len, 90)},           {"p99", percentile(len, 99)},
                          {"max", len.empty() ? 0 : len.back()},  {"mean", mean}};
  auto ic = item_counts(log, ds.n_items());
  std::vector<std::int64_t> pop(ic.begin() + 1, ic.end());
  std::sort(pop.begin(), pop.end());
  j["item_popularity"] = {{"min", pop.empty() ? 0 : pop.front()},
                          {"p50", percentile(pop, 50)},
                          {"p90", percentile(pop, 90)},
                          {"max", pop.empty() ? 0 : pop.back()}};
  const auto& t = ds.item_table;
  std::int64_t with_cat = 0, with_text = 0;
  for (std::size_t i = 1; i + 1 < t.category_offsets.size(); ++i)
    with_cat += t.category_offsets[i + 1] > t.category_offsets[i];
  for (std::size_t i = 1; i + 1 < t.token_offsets.size(); ++i) with_text += t.token_offsets[i + 1] > t.token_offsets[i];
  j["item_table"] = {{"categories", t.categories.size()},
                     {"items_with_category", with_cat},
                     {"vocabulary", t.vocabulary.size()},
                     {"items_with_text", with_text}};
  j["fingerprint"] = ds.fingerprint();
  return j;
}

std::string format_stats(const nlohmann::json& j) {
  std::ostringstream os;
  os << "dataset        " << j["name"].get<std::string>() << "\n";
  os << "users          " << j["users"] << "\nitems          " << j["items"] << "\nevents         " << j["events"]
     << "\n";
  os << "density        " << j["density"].get<double>() << "\n";
  os << "behaviours    ";
  for (auto it = j["behaviors"].begin(); it != j["behaviors"].end(); ++it) os << " " << it.key() << "=" << it.value();
  os << "\n";
  if (j.contains("domains")) {
    os << "domains       ";
    for (auto it = j["domains"].begin(); it != j["domains"].end(); ++it) os << " " << it.key() << "=" << it.value();
    os << "\n";
  }
  if (j.contains("time")) {
    if (j["has_clock"].get<bool>())
      os << "time range     " << j["time"]["min_iso"].get<std::string>() << " .. "
         << j["time"]["max_iso"].get<std::string>() << " (" << j["time"]["days"].get<double>() << " days)\n";
    else
      os << "time range     no clock in the source (order only)\n";
  }
  const auto& s = j["sequence_length"];
  os << "seq length     min " << s["min"] << ", p50 " << s["p50"] << ", p90 " << s["p90"] << ", p99 " << s["p99"]
     << ", max " << s["max"] << ", mean " << s["mean"].get<double>() << "\n";
  const auto& p = j["item_popularity"];
  os << "item events    min " << p["min"] << ", p50 " << p["p50"] << ", p90 " << p["p90"] << ", max " << p["max"]
     << "\n";
  const auto& t = j["item_table"];
  os << "item table     " << t["categories"] << " categories (" << t["items_with_category"] << " items), vocabulary "
     << t["vocabulary"] << " (" << t["items_with_text"] << " items with text)\n";
  os << "fingerprint    " << j["fingerprint"].get<std::string>() << "\n";
  return os.str();
}

}  // namespace driftrec::data
