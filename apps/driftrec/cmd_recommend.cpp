#include <iomanip>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"

namespace driftrec::cli {

Runner add_recommend(CLI::App& app, const GlobalFlags&) {
  struct Opts {
    std::string model_dir, user, history, exclude;
    DataFlags data;
    std::size_t k = 10;
    bool json = false, explain = false, include_seen = false;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model_dir, "model directory")->required();
  app.add_option("--user", o->user, "user id (its history comes from --data; may be new)");
  app.add_option("-k,--k", o->k, "number of items")->check(CLI::Range(1, 100000));
  app.add_option("--history", o->history, "item ids, comma-separated, observed in this order after the user's history");
  app.add_option("--exclude", o->exclude, "item ids never to recommend, comma-separated");
  o->data.add_to(app, false);
  app.add_flag("--json", o->json, "print JSON");
  app.add_flag("--explain", o->explain, "show which past events drove each item (models that can explain)");
  app.add_flag("--include-seen", o->include_seen, "allow items already in the history");
  return [o]() {
    auto loaded = models::load_model_dir(o->model_dir);
    const auto& model = *loaded.model;
    if (o->user.empty() && o->history.empty()) throw InvalidInput("give --user, --history or both");
    std::vector<data::Event> past;
    std::int32_t user = o->user.empty() ? -1 : loaded.users.find(o->user);
    data::Dataset aligned;
    const data::Dataset* catalog = nullptr;
    if (!o->data.path.empty()) {
      aligned = data::align_ids(o->data.load(), loaded.users, loaded.items);
      catalog = &aligned;
      const auto u = o->user.empty() ? -1 : aligned.users.find(o->user);
      if (u >= 1) past = aligned.log.events(aligned.log.user_begin(u), aligned.log.user_end(u));
    }
    auto state = model.encode(user, past);
    std::int64_t ts = past.empty() ? 0 : past.back().ts;
    for (const auto& id : split_commas(o->history)) {
      const auto item = loaded.items.find(id);
      if (item < 0) {
        log_warn("item '" + id + "' is unknown to the model; skipped");
        continue;
      }
      model.observe(state, data::Event{user < 0 ? 0 : user, item, ++ts, 0, 0, 1.0f});
    }
    if (state.history.empty() && state.user < 0)
      throw InvalidInput("user '" + o->user +
                         "' has no history the model knows: pass --data with their events or --history");
    models::RecommendOptions ro;
    ro.exclude_seen = !o->include_seen;
    for (const auto& id : split_commas(o->exclude))
      if (auto i = loaded.items.find(id); i >= 0) ro.exclude.push_back(i);
    const auto top = model.recommend(state, o->k, ro);
    const bool can_explain = o->explain && model.capabilities().explain;
    if (o->explain && !can_explain) log_warn(model.name() + " cannot explain its recommendations");
    auto label = [&](std::int32_t i) {
      std::string s;
      if (catalog && catalog->item_table.primary_category(i) >= 0)
        s = catalog->item_table.categories.name(catalog->item_table.primary_category(i));
      if (catalog && static_cast<std::size_t>(i) < catalog->item_table.titles.size() &&
          !catalog->item_table.titles[static_cast<std::size_t>(i)].empty())
        s += (s.empty() ? "" : " | ") + catalog->item_table.titles[static_cast<std::size_t>(i)];
      return s;
    };
    nlohmann::json out = {{"user", o->user}, {"model", model.name()}, {"history_length", state.history.size()}};
    out["items"] = nlohmann::json::array();
    for (std::size_t r = 0; r < top.size(); ++r) {
      nlohmann::json it = {{"item", loaded.items.name(top.items[r])}, {"score", top.scores[r]}};
      if (!label(top.items[r]).empty()) it["label"] = label(top.items[r]);
      if (can_explain) {
        it["because"] = nlohmann::json::array();
        const auto attr = model.explain(state, top.items[r]);
        for (std::size_t a = 0; a < std::min<std::size_t>(3, attr.size()); ++a)
          it["because"].push_back(
              {{"item", loaded.items.name(attr[a].item)}, {"weight", attr[a].weight}, {"position", attr[a].position}});
      }
      out["items"].push_back(it);
    }
    if (o->json) {
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return 0;
    }
    std::cout << model.name() << " top-" << o->k << " for "
              << (o->user.empty() ? "an anonymous user" : "user " + o->user) << " (" << state.history.size()
              << " past events)\n";
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
    return 0;
  };
}

Runner add_models(CLI::App& app, const GlobalFlags&) {
  auto name = std::make_shared<std::string>();
  app.add_option("name", *name, "show one model's parameters");
  return [name]() {
    for (const auto& n : models::model_names()) {
      if (!name->empty() && n != *name) continue;
      std::cout << n << "\n" << models::model_params(n).describe();
    }
    if (!name->empty()) models::model_params(*name);  // throws NotFound for an unknown name
    return 0;
  };
}

}  // namespace driftrec::cli
