#include <iomanip>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/recommender.h"

namespace driftrec::cli {

namespace {

/// "category | title" of an item when the data has them.
std::string item_label(const data::Dataset* catalog, std::int32_t i) {
  if (!catalog || i < 1) return "";
  std::string s;
  const auto& t = catalog->item_table;
  if (t.primary_category(i) >= 0) s = t.categories.name(t.primary_category(i));
  if (static_cast<std::size_t>(i) < t.titles.size() && !t.titles[static_cast<std::size_t>(i)].empty())
    s += (s.empty() ? "" : " | ") + t.titles[static_cast<std::size_t>(i)];
  return s;
}

void print_text(const nlohmann::json& out, const std::string& model, const std::string& user, std::size_t k) {
  std::cout << model << " top-" << k << " for " << (user.empty() ? "an anonymous user" : "user " + user) << " ("
            << out["history_length"].get<std::size_t>() << " past events)\n";
  for (std::size_t r = 0; r < out["items"].size(); ++r) {
    const auto& it = out["items"][r];
    std::cout << std::setw(3) << r + 1 << ". " << std::left << std::setw(14) << it["item"].get<std::string>()
              << std::right << " score " << std::fixed << std::setprecision(4) << it["score"].get<float>();
    if (it.contains("label")) std::cout << "  " << it["label"].get<std::string>();
    std::cout << "\n";
    if (it.contains("because"))
      for (const auto& b : it["because"])
        std::cout << "       because of " << b["item"].get<std::string>() << " (" << std::setprecision(4)
                  << b["weight"].get<float>() << ")\n";
  }
}

}  // namespace

Runner add_recommend(CLI::App& app, const GlobalFlags&) {
  struct Opts {
    std::string model_dir, user, history, exclude;
    DataFlags data;
    RerankFlags rerank;
    std::size_t k = 10;
    bool json = false, explain = false, include_seen = false;
    std::int64_t at = 0;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model_dir, "model directory")->required();
  app.add_option("--user", o->user, "user id (its history comes from --data; may be new)");
  app.add_option("-k,--k", o->k, "number of items")->check(CLI::Range(1, 100000));
  app.add_option("--history", o->history, "item ids, comma-separated, observed in this order after the user's history");
  app.add_option("--exclude", o->exclude, "item ids never to recommend, comma-separated");
  o->data.add_to(app, false);
  o->rerank.add_to(app, false);
  app.add_flag("--json", o->json, "print JSON");
  app.add_flag("--explain", o->explain, "show which past events drove each item (models that can explain)");
  app.add_flag("--include-seen", o->include_seen, "allow items already in the history");
  auto* at = app.add_option("--at", o->at,
                            "when the list is asked for (unix seconds): a model trained with request_time reads the "
                            "time since the user's last event (default: no time)");
  return [o, at]() {
    if (o->user.empty() && o->history.empty()) throw InvalidInput("give --user, --history or both");
    auto loaded = std::make_shared<const models::LoadedModel>(models::load_model_dir(o->model_dir));
    workflow::Recommender rec(loaded, o->rerank.groups);
    const std::string user = o->user.empty() ? "\x01anonymous" : o->user;  // not a valid id in any format
    data::Dataset aligned;
    const data::Dataset* catalog = nullptr;
    if (!o->data.path.empty()) {
      aligned = data::align_ids(o->data.load(), loaded->users, loaded->items);
      catalog = &aligned;
      if (const auto u = o->user.empty() ? -1 : aligned.users.find(o->user); u >= 1) {
        std::vector<bool> keep(aligned.log.size(), false);
        for (auto r = aligned.log.user_begin(u); r < aligned.log.user_end(u); ++r)
          keep[static_cast<std::size_t>(r)] = true;
        rec.set_histories(data::subset(aligned, keep));
      }
    }
    for (const auto& id : split_commas(o->history))
      if (!rec.observe(user, id, std::nullopt)) log_warn("item '" + id + "' is unknown to the model; skipped");
    workflow::RecommendQuery q;
    q.k = o->k;
    q.exclude_seen = !o->include_seen;
    q.exclude = split_commas(o->exclude);
    q.rerank = o->rerank.rerank;
    q.rerank_depth = o->rerank.depth;
    if (at->count() > 0) q.at = o->at;
    std::vector<char> cold;
    const auto top = rec.recommend({user}, q, &cold).front();
    if (cold.front())
      throw InvalidInput("user '" + o->user +
                         "' has no history the model knows: pass --data with their events or --history");
    const auto& model = *loaded->model;
    const bool can_explain = o->explain && model.capabilities().explain;
    if (o->explain && !can_explain) log_warn(model.name() + " cannot explain its recommendations");
    nlohmann::json out = {{"user", o->user}, {"model", model.name()}, {"history_length", rec.history_length(user)}};
    if (!q.rerank.empty()) out["rerank"] = q.rerank;
    out["items"] = nlohmann::json::array();
    for (std::size_t r = 0; r < top.size(); ++r) {
      const auto& id = rec.item_id(top.items[r]);
      nlohmann::json it = {{"item", id}, {"score", top.scores[r]}};
      if (const auto label = item_label(catalog, top.items[r]); !label.empty()) it["label"] = label;
      if (can_explain) {
        it["because"] = nlohmann::json::array();
        const auto attr = rec.explain(user, id);
        for (std::size_t a = 0; a < std::min<std::size_t>(3, attr.size()); ++a)
          it["because"].push_back({{"item", attr[a].item}, {"weight", attr[a].weight}, {"position", attr[a].position}});
      }
      out["items"].push_back(it);
    }
    if (o->json)
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
      print_text(out, model.name(), o->user, o->k);
    return 0;
  };
}

}  // namespace driftrec::cli
