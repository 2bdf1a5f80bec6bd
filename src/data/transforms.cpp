#include "driftrec/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/readers.h"

namespace driftrec::data {

Dataset drop_consecutive_duplicates(const Dataset& ds, bool same_behavior_only) {
  const auto& log = ds.log;
  std::vector<bool> keep(log.size(), true);
  for (std::int32_t u = 1; u < ds.n_users(); ++u) {
    for (auto r = log.user_begin(u) + 1; r < log.user_end(u); ++r) {
      const auto i = static_cast<std::size_t>(r);
      if (log.item[i] == log.item[i - 1] && (!same_behavior_only || log.behavior[i] == log.behavior[i - 1]))
        keep[i] = false;
    }
  }
  return subset(ds, keep);
}

Dataset k_core(const Dataset& ds, int min_user, int min_item) {
  const auto& log = ds.log;
  std::vector<bool> keep(log.size(), true);
  std::vector<std::int64_t> uc(static_cast<std::size_t>(ds.n_users())), ic(static_cast<std::size_t>(ds.n_items()));
  for (;;) {
    std::fill(uc.begin(), uc.end(), 0);
    std::fill(ic.begin(), ic.end(), 0);
    for (std::size_t r = 0; r < log.size(); ++r)
      if (keep[r]) {
        ++uc[static_cast<std::size_t>(log.user[r])];
        ++ic[static_cast<std::size_t>(log.item[r])];
      }
    bool changed = false;
    for (std::size_t r = 0; r < log.size(); ++r) {
      if (!keep[r]) continue;
      if ((min_user > 0 && uc[static_cast<std::size_t>(log.user[r])] < min_user) ||
          (min_item > 0 && ic[static_cast<std::size_t>(log.item[r])] < min_item)) {
        keep[r] = false;
        changed = true;
      }
    }
    if (!changed) break;
  }
  if (std::none_of(keep.begin(), keep.end(), [](bool k) { return k; }))
    throw InvalidInput("k-core (users >= " + std::to_string(min_user) + ", items >= " + std::to_string(min_item) +
                       ") removed every event");
  return subset(ds, keep);
}

std::vector<std::int16_t> behavior_ids(const Dataset& ds, const std::vector<std::string>& names) {
  std::vector<std::int16_t> out;
  for (const auto& n : names) {
    const auto id = ds.behaviors.find(n);
    if (id < 0) {
      std::string known;
      for (const auto& b : ds.behaviors.names()) known += (known.empty() ? "" : ", ") + b;
      throw NotFound("behaviour '" + n + "' does not occur in the data (present: " + known + ")");
    }
    out.push_back(static_cast<std::int16_t>(id));
  }
  return out;
}

namespace {

// Same id maps and item table as `full`, log restricted to rows with keep[r].
Dataset restrict_log(const Dataset& full, const std::vector<bool>& keep) {
  Dataset out;
  out.name = full.name;
  out.users = full.users;
  out.items = full.items;
  out.behaviors = full.behaviors;
  out.domains = full.domains;
  out.item_table = full.item_table;
  out.has_clock = full.has_clock;
  const auto& in = full.log;
  auto& log = out.log;
  log.offsets.assign(in.offsets.size(), 0);
  for (std::size_t r = 0; r < in.size(); ++r) {
    if (!keep[r]) continue;
    log.user.push_back(in.user[r]);
    log.item.push_back(in.item[r]);
    log.ts.push_back(in.ts[r]);
    log.behavior.push_back(in.behavior[r]);
    log.domain.push_back(in.domain[r]);
    log.value.push_back(in.value[r]);
    ++log.offsets[static_cast<std::size_t>(in.user[r]) + 1];
  }
  std::partial_sum(log.offsets.begin(), log.offsets.end(), log.offsets.begin());
  return out;
}

// Per row of the log: is the event a target (its behaviour and its domain are among the targets)?
std::vector<bool> target_mask(const Dataset& ds, const SplitOptions& opt) {
  std::vector<bool> by_behavior(static_cast<std::size_t>(ds.behaviors.size()), opt.target_behaviors.empty());
  for (auto b : behavior_ids(ds, opt.target_behaviors)) by_behavior[static_cast<std::size_t>(b)] = true;
  std::vector<bool> by_domain(std::max<std::size_t>(1, static_cast<std::size_t>(ds.domains.size())),
                              opt.target_domains.empty());
  for (auto d : domain_ids(ds, opt.target_domains)) by_domain[static_cast<std::size_t>(d)] = true;
  const auto& log = ds.log;
  std::vector<bool> out(log.size());
  for (std::size_t r = 0; r < log.size(); ++r) {
    const auto b = static_cast<std::size_t>(log.behavior[r]), d = static_cast<std::size_t>(log.domain[r]);
    out[r] = b < by_behavior.size() && by_behavior[b] && d < by_domain.size() && by_domain[d];
  }
  return out;
}

}  // namespace

Split leave_one_out(const Dataset& full, const SplitOptions& opt) {
  if (opt.min_targets < 2) throw InvalidInput("leave_one_out: min_targets must be >= 2");
  const auto is_target = target_mask(full, opt);
  const auto& log = full.log;
  Split s;
  s.protocol = "leave_one_out";
  std::vector<bool> keep(log.size(), true);
  std::vector<std::int64_t> rows;
  for (std::int32_t u = 1; u < full.n_users(); ++u) {
    rows.clear();
    for (auto r = log.user_begin(u); r < log.user_end(u); ++r)
      if (is_target[static_cast<std::size_t>(r)]) rows.push_back(r);
    if (static_cast<int>(rows.size()) < opt.min_targets) continue;  // too short: training only
    const auto t = rows.back(), v = rows[rows.size() - 2];
    // A training event must precede the validation target, or the user has no history for it.
    if (v == log.user_begin(u)) continue;
    for (auto r = opt.refit ? t : v; r < log.user_end(u); ++r) keep[static_cast<std::size_t>(r)] = false;
    if (!opt.refit)
      s.valid.push_back({u, v, {log.item[static_cast<std::size_t>(v)]}, log.ts[static_cast<std::size_t>(v)]});
    s.test.push_back({u, t, {log.item[static_cast<std::size_t>(t)]}, log.ts[static_cast<std::size_t>(t)]});
  }
  s.train = restrict_log(full, keep);
  s.train.target_behaviors = opt.target_behaviors;
  return s;
}

Split temporal_split(const Dataset& full, std::int64_t valid_start, std::int64_t test_start, const SplitOptions& opt) {
  if (valid_start > test_start) throw InvalidInput("temporal split: validation cutoff is after the test cutoff");
  const auto is_target = target_mask(full, opt);
  const auto& log = full.log;
  Split s;
  s.protocol = "temporal";
  s.cutoff_valid = valid_start;
  s.cutoff_test = test_start;
  std::vector<bool> keep(log.size());
  for (std::size_t r = 0; r < log.size(); ++r) keep[r] = log.ts[r] < valid_start;
  std::vector<char> old_item(static_cast<std::size_t>(full.n_items()), 0);
  if (opt.new_items_only)
    for (std::size_t r = 0; r < log.size(); ++r)
      if (keep[r]) old_item[static_cast<std::size_t>(log.item[r])] = 1;
  auto make_case = [&](std::int32_t u, std::int64_t from, std::int64_t to, std::vector<EvalCase>& out,
                       std::int64_t* cold) {
    const auto b = log.user_begin(u), e = log.user_end(u);
    auto r = b;
    while (r < e && log.ts[static_cast<std::size_t>(r)] < from) ++r;
    EvalCase c{u, r, {}, 0};
    std::unordered_set<std::int32_t> seen;
    for (auto q = r; q < e && log.ts[static_cast<std::size_t>(q)] < to; ++q) {
      const auto i = static_cast<std::size_t>(q);
      if (!is_target[i] || old_item[static_cast<std::size_t>(log.item[i])]) continue;
      if (c.targets.empty()) c.target_ts = log.ts[i];
      if (seen.insert(log.item[i]).second) c.targets.push_back(log.item[i]);
    }
    if (c.targets.empty()) return;
    if (r == b) {
      if (cold) ++*cold;
      return;
    }
    out.push_back(std::move(c));
  };
  for (std::int32_t u = 1; u < full.n_users(); ++u) {
    if (valid_start < test_start && !opt.refit) make_case(u, valid_start, test_start, s.valid, nullptr);
    make_case(u, test_start, INT64_MAX, s.test, &s.cold_test_users);
  }
  // Refit: the validation period joins training (new items stay those new since valid_start, so
  // the test cases are the same as without refit).
  if (opt.refit)
    for (std::size_t r = 0; r < log.size(); ++r) keep[r] = log.ts[r] < test_start;
  s.train = restrict_log(full, keep);
  if (s.train.log.size() == 0) throw InvalidInput("temporal split: no event before the validation cutoff");
  s.train.target_behaviors = opt.target_behaviors;
  return s;
}

bool has_given_split(const Dataset& ds) {
  if (ds.has_clock) return false;
  return std::any_of(ds.log.ts.begin(), ds.log.ts.end(), [](std::int64_t t) { return t >= kGivenTestStart; });
}

std::size_t keep_new_targets(const Dataset& full, std::vector<EvalCase>& cases) {
  const auto& log = full.log;
  std::unordered_set<std::int32_t> seen;
  const auto before = cases.size();
  cases.erase(std::remove_if(cases.begin(), cases.end(),
                             [&](EvalCase& c) {
                               seen.clear();
                               for (auto r = log.user_begin(c.user); r < c.history_end; ++r)
                                 seen.insert(log.item[static_cast<std::size_t>(r)]);
                               c.targets.erase(std::remove_if(c.targets.begin(), c.targets.end(),
                                                              [&](std::int32_t i) { return seen.count(i) > 0; }),
                                               c.targets.end());
                               return c.targets.empty();
                             }),
              cases.end());
  return before - cases.size();
}

Split given_split(const Dataset& full, const SplitOptions& options) {
  if (!has_given_split(full))
    throw InvalidInput("the 'given' split needs data read from train/test files (format 'given')");
  if (options.new_items_only) throw InvalidInput("new-item (cold-start) evaluation needs the temporal split");
  const bool has_valid = std::any_of(full.log.ts.begin(), full.log.ts.end(),
                                     [](std::int64_t t) { return t >= kGivenValidStart && t < kGivenTestStart; });
  auto s = temporal_split(full, has_valid ? kGivenValidStart : kGivenTestStart, kGivenTestStart, options);
  s.protocol = "given";
  auto same_targets = [](const EvalCase& a, const EvalCase& b) {
    auto x = a.targets, y = b.targets;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return a.user == b.user && x == y;
  };
  if (!s.valid.empty() && s.valid.size() == s.test.size() &&
      std::equal(s.valid.begin(), s.valid.end(), s.test.begin(), same_targets))
    s.warnings.push_back(
        "the validation cases are the test cases (is the validation file a copy of the test file?): "
        "test histories then contain the test items themselves, and anything chosen on validation "
        "is chosen on test");
  return s;
}

namespace {

/// Rows of `log` in the order `perm` names (offsets unchanged: perm keeps every user's rows in
/// the user's own span).
void permute_rows(InteractionLog& log, const std::vector<std::int64_t>& perm) {
  auto gather = [&perm](auto& column) {
    auto old = column;
    for (std::size_t r = 0; r < perm.size(); ++r) column[r] = old[static_cast<std::size_t>(perm[r])];
  };
  gather(log.user);
  gather(log.item);
  gather(log.ts);
  gather(log.behavior);
  gather(log.domain);
  gather(log.value);
}

/// How many of a user's n training events become validation (see carve_given_validation).
std::int64_t held_out_count(std::int64_t n, double fraction) {
  if (n < 2) return 0;
  const auto k = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n)));
  return std::min(n - 1, std::max<std::int64_t>(1, k));
}

}  // namespace

Dataset carve_given_validation(Dataset ds, double fraction, std::uint64_t seed) {
  if (!(fraction > 0.0 && fraction < 1.0))
    throw InvalidInput("valid_fraction must be in (0, 1), got " + std::to_string(fraction));
  if (!has_given_split(ds))
    throw InvalidInput("valid_fraction carves validation out of a given split's training file (format 'given')");
  auto& log = ds.log;
  for (auto t : log.ts)
    if (t >= kGivenValidStart && t < kGivenTestStart)
      throw InvalidInput("valid_fraction: this data has its own validation file; use it (drop valid_fraction)");
  const Rng base(seed);
  std::vector<std::int64_t> perm(log.size());
  std::vector<std::pair<std::int64_t, std::int64_t>> carved;  // (first row, count) per user
  std::vector<std::int64_t> pick;
  std::vector<char> held;
  for (std::int32_t u = 1; u < ds.n_users(); ++u) {
    // Sorted by time, a user's training events are the first n rows of the span, test events the rest.
    const auto b = log.user_begin(u), e = log.user_end(u);
    const auto n = std::partition_point(log.ts.begin() + b, log.ts.begin() + e,
                                        [](std::int64_t t) { return t < kGivenValidStart; }) -
                   (log.ts.begin() + b);
    const auto k = held_out_count(n, fraction);
    // A seeded partial shuffle picks the k held-out positions; both groups keep file order.
    pick.resize(static_cast<std::size_t>(n));
    std::iota(pick.begin(), pick.end(), 0);
    auto rng = base.fork(static_cast<std::uint64_t>(u));
    for (std::int64_t i = 0; i < k; ++i)
      std::swap(pick[static_cast<std::size_t>(i)],
                pick[static_cast<std::size_t>(i) + rng.uniform_int(static_cast<std::uint64_t>(n - i))]);
    held.assign(static_cast<std::size_t>(n), 0);
    for (std::int64_t i = 0; i < k; ++i) held[static_cast<std::size_t>(pick[static_cast<std::size_t>(i)])] = 1;
    auto out = b;
    for (char group : {0, 1}) {
      if (group == 1) carved.emplace_back(out, k);
      for (std::int64_t i = 0; i < n; ++i)
        if (held[static_cast<std::size_t>(i)] == group) perm[static_cast<std::size_t>(out++)] = b + i;
    }
    for (auto r = b + n; r < e; ++r) perm[static_cast<std::size_t>(out++)] = r;
  }
  permute_rows(log, perm);
  for (const auto& [first, k] : carved)
    for (std::int64_t j = 0; j < k; ++j) log.ts[static_cast<std::size_t>(first + j)] = kGivenValidStart + j;
  return ds;
}

std::vector<std::int16_t> domain_ids(const Dataset& ds, const std::vector<std::string>& names) {
  std::vector<std::int16_t> out;
  for (const auto& n : names) {
    const auto id = ds.domains.find(n);
    if (id <= 0) {
      std::string known;
      for (const auto& d : ds.domains.names())
        if (!d.empty()) known += (known.empty() ? "" : ", ") + d;
      throw NotFound("domain '" + n + "' does not occur in the data (present: " + (known.empty() ? "none" : known) +
                     ")");
    }
    out.push_back(static_cast<std::int16_t>(id));
  }
  return out;
}

std::vector<char> domain_items(const Dataset& ds, const std::vector<std::string>& names) {
  const auto ids = domain_ids(ds, names);
  std::vector<char> want(static_cast<std::size_t>(ds.domains.size()), 0);
  for (auto d : ids) want[static_cast<std::size_t>(d)] = 1;
  std::vector<char> out(static_cast<std::size_t>(ds.n_items()), 0);
  for (std::size_t r = 0; r < ds.log.size(); ++r)
    if (want[static_cast<std::size_t>(ds.log.domain[r])]) out[static_cast<std::size_t>(ds.log.item[r])] = 1;
  return out;
}

std::vector<char> items_new_since(const Dataset& ds, std::int64_t cutoff) {
  std::vector<char> fresh(static_cast<std::size_t>(ds.n_items()), 1);
  fresh[0] = 0;
  for (std::size_t r = 0; r < ds.log.size(); ++r)
    if (ds.log.ts[r] < cutoff) fresh[static_cast<std::size_t>(ds.log.item[r])] = 0;
  return fresh;
}

Dataset keep_domains(const Dataset& ds, const std::vector<std::string>& names) {
  const auto ids = domain_ids(ds, names);
  std::vector<bool> keep(ds.log.size());
  for (std::size_t r = 0; r < ds.log.size(); ++r)
    keep[r] = std::find(ids.begin(), ids.end(), ds.log.domain[r]) != ids.end();
  return subset(ds, keep);
}

std::int64_t time_quantile(const Dataset& ds, double fraction) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) throw InvalidInput("time quantile must be in [0, 1]");
  if (ds.log.size() == 0) throw InvalidInput("time quantile of an empty dataset");
  std::vector<std::int64_t> ts = ds.log.ts;
  const auto k =
      std::min(ts.size() - 1, static_cast<std::size_t>(std::floor(fraction * static_cast<double>(ts.size()))));
  std::nth_element(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(k), ts.end());
  return ts[k];
}

}  // namespace driftrec::data

#include "driftrec/data/readers.h"

namespace driftrec::data {

nlohmann::json to_json(const PrepareOptions& o) {
  return {{"dedup", o.dedup},
          {"min_user_events", o.min_user_events},
          {"min_item_events", o.min_item_events},
          {"target_behaviors", o.target_behaviors},
          {"domains", o.domains},
          {"target_domains", o.target_domains},
          {"new_items", o.new_items},
          {"refit", o.refit},
          {"split", o.split},
          {"valid_start", o.valid_start},
          {"test_start", o.test_start},
          {"valid_fraction", o.valid_fraction},
          {"valid_seed", o.valid_seed}};
}

PrepareOptions prepare_options_from_json(const nlohmann::json& j) {
  PrepareOptions o;
  if (j.is_null()) return o;
  try {
    o.dedup = j.value("dedup", o.dedup);
    o.min_user_events = j.value("min_user_events", o.min_user_events);
    o.min_item_events = j.value("min_item_events", o.min_item_events);
    o.target_behaviors = j.value("target_behaviors", o.target_behaviors);
    o.domains = j.value("domains", o.domains);
    o.target_domains = j.value("target_domains", o.target_domains);
    o.new_items = j.value("new_items", o.new_items);
    o.refit = j.value("refit", o.refit);
    o.split = j.value("split", o.split);
    o.valid_start = j.value("valid_start", o.valid_start);
    o.test_start = j.value("test_start", o.test_start);
    o.valid_fraction = j.value("valid_fraction", o.valid_fraction);
    o.valid_seed = j.value("valid_seed", o.valid_seed);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(std::string("preprocessing options: ") + e.what());
  }
  return o;
}

std::int64_t resolve_cutoff(const Dataset& ds, const std::string& spec, const char* what) {
  char* end = nullptr;
  const double q = std::strtod(spec.c_str(), &end);
  if (end == spec.c_str() + spec.size() && !spec.empty() && q >= 0.0 && q <= 1.0) return time_quantile(ds, q);
  try {
    return parse_timestamp(spec);
  } catch (const InvalidInput& e) {
    throw InvalidInput(std::string(what) + ": '" + spec + "' is neither a quantile in [0, 1] nor a timestamp");
  }
}

Dataset apply_filters(Dataset ds, const PrepareOptions& o) {
  if (o.min_user_events < 0 || o.min_item_events < 0) throw InvalidInput("k-core thresholds must be >= 0");
  if (!o.domains.empty()) ds = keep_domains(ds, o.domains);
  if (o.dedup) ds = drop_consecutive_duplicates(ds);
  if (o.min_user_events > 0 || o.min_item_events > 0) ds = k_core(ds, o.min_user_events, o.min_item_events);
  if (o.valid_fraction != 0.0) {
    if (o.split != "given") throw InvalidInput("valid_fraction is for the given split (--split given)");
    ds = carve_given_validation(std::move(ds), o.valid_fraction, o.valid_seed);
  }
  return ds;
}

Split make_split(const Dataset& ds, const PrepareOptions& o) {
  SplitOptions so;
  so.target_behaviors = o.target_behaviors;
  so.target_domains = o.target_domains;
  so.new_items_only = o.new_items;
  so.refit = o.refit;
  if (o.new_items && o.split != "temporal")
    throw InvalidInput("new-item (cold-start) evaluation needs the temporal split");
  Split s;
  if (o.split == "loo") {
    if (has_given_split(ds))
      throw InvalidInput("this data comes with its own train/test files: use the 'given' split (--split given)");
    s = leave_one_out(ds, so);
  } else if (o.split == "temporal") {
    if (!ds.has_clock) throw InvalidInput("a temporal split needs real timestamps; this dataset only has event order");
    s = temporal_split(ds, resolve_cutoff(ds, o.valid_start, "valid_start"),
                       resolve_cutoff(ds, o.test_start, "test_start"), so);
  } else if (o.split == "given") {
    s = given_split(ds, so);
  } else {
    throw InvalidInput("unknown split '" + o.split + "' (loo, temporal, given)");
  }
  if (s.test.empty()) throw InvalidInput("the split left no test cases (users too short for " + o.split + "?)");
  return s;
}

Prepared prepare(Dataset ds, const PrepareOptions& o) {
  Prepared p;
  p.full = apply_filters(std::move(ds), o);
  p.split = make_split(p.full, o);
  return p;
}

}  // namespace driftrec::data
