// driftrec store import | delete-user | export-user | purge: data rights on a stored event log (the same
// operations as DELETE /v1/users/{id}, GET /v1/users/{id}/events and serve --retention-days).
#include <chrono>
#include <cstdio>
#include <fstream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/store/user_data.h"
#include "store_flags.h"

namespace driftrec::cli {

namespace {
std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The user's stored data; InvalidInput (exit 2) when the store holds nothing about them.
store::UserData existing(const store::EventStore& s, const std::string& user) {
  auto d = store::user_data(s, user);
  if (d.empty())
    throw InvalidInput("user '" + user + "': nothing is stored about this user in " + s.url() +
                       (d.deleted_at ? " (deleted at " + std::to_string(*d.deleted_at) + ")" : ""));
  return d;
}
}  // namespace

Runner add_store(CLI::App& app, const GlobalFlags&) {
  app.require_subcommand(1);
  struct Flags {
    StoreFlags imp, del, exp, purge;
    DataFlags data;
    std::string del_user, exp_user, out;
    double days = 0;
  };
  auto f = std::make_shared<Flags>();
  auto* imp = app.add_subcommand("import", "append a dataset's events (deleted users' old events are skipped)");
  f->imp.add_to(*imp, true);
  f->data.add_to(*imp, true);
  auto* del = app.add_subcommand("delete-user", "erase a user's events and feedback and leave a tombstone");
  f->del.add_to(*del, true);
  del->add_option("--user", f->del_user, "user id")->required();
  auto* exp = app.add_subcommand("export-user", "everything the store holds about a user, as JSON");
  f->exp.add_to(*exp, true);
  exp->add_option("--user", f->exp_user, "user id")->required();
  exp->add_option("--out", f->out, "file to write (default: standard output)");
  auto* purge = app.add_subcommand("purge", "erase events and feedback older than a number of days (retention)");
  f->purge.add_to(*purge, true);
  purge->add_option("--older-than-days", f->days, "age in days")->required()->check(CLI::PositiveNumber);
  return [f, imp, del, exp]() {
    if (imp->parsed()) {
      const auto s = f->imp.open();
      const auto r = store::import_dataset(*s, f->data.load());
      log_import(r, s->url());
      std::printf(
          "%s\n",
          nlohmann::json({{"stored_events", r.stored}, {"skipped_deleted_users", r.deleted_users}}).dump().c_str());
      return 0;
    }
    if (del->parsed()) {
      const auto s = f->del.open();
      store::UserErasure e;
      try {
        e = store::erase_user(*s, f->del_user, now_seconds());
      } catch (const NotFound& x) {  // an unknown user is bad input here: exit 2
        throw InvalidInput(std::string(x.what()) + " in " + s->url());
      }
      std::printf("%s\n", nlohmann::json({{"user", f->del_user},
                                          {"deleted_events", e.erased.events},
                                          {"deleted_feedback", e.erased.feedback},
                                          {"deleted_at", e.deleted_at}})
                              .dump()
                              .c_str());
      return 0;
    }
    if (exp->parsed()) {
      const auto s = f->exp.open();
      const auto text = store::to_json(existing(*s, f->exp_user)).dump(2) + "\n";
      if (f->out.empty()) {
        std::fputs(text.c_str(), stdout);
      } else if (!(std::ofstream(f->out, std::ios::binary) << text)) {
        throw IoError(f->out + ": cannot write the export");
      }
      return 0;
    }
    const auto s = f->purge.open();
    const auto cutoff = now_seconds() - static_cast<std::int64_t>(f->days * 86400.0);
    const auto e = s->purge_before(cutoff);
    std::printf("%s\n",
                nlohmann::json({{"purged_events", e.events}, {"purged_feedback", e.feedback}, {"before", cutoff}})
                    .dump()
                    .c_str());
    return 0;
  };
}

}  // namespace driftrec::cli
