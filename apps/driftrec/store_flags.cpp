#include "store_flags.h"

#include "driftrec/core/log.h"
#include "driftrec/store/pseudonymized_store.h"

namespace driftrec::cli {

void StoreFlags::add_to(CLI::App& app, bool required) {
  auto* s = app.add_option(
      "--store", url,
      "event store URL: sqlite://PATH, postgresql://USER@HOST:PORT/DB (shared by server replicas) or memory://");
  if (required) s->required();
  app.add_option("--pseudonymize-users", key_file,
                 "key file (>= 16 bytes, e.g. openssl rand -hex 32): user ids are stored as HMAC-SHA256 pseudonyms");
}

std::unique_ptr<store::EventStore> StoreFlags::open() const {
  auto s = store::open_event_store(url);
  if (key_file.empty()) return s;
  return store::pseudonymize(std::move(s), store::read_pseudonym_key(key_file));
}

void log_import(const store::ImportResult& r, const std::string& url) {
  log_info("imported " + std::to_string(r.stored) + " events into " + url +
           (r.deleted_users > 0 ? " (" + std::to_string(r.deleted_users) + " of deleted users skipped)" : ""));
}

}  // namespace driftrec::cli
