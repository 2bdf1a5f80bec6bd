#pragma once
// The event-store flags shared by `serve` and `store`: the URL and the pseudonymisation key.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "driftrec/store/event_store.h"
#include "driftrec/store/import.h"

namespace driftrec::cli {

struct StoreFlags {
  std::string url;
  std::string key_file;  ///< --pseudonymize-users
  /// Adds --store (required, or with `url`'s value as default) and --pseudonymize-users.
  void add_to(CLI::App& app, bool required);
  /// Opens the store, wrapped to pseudonymise user ids when a key file was given.
  std::unique_ptr<store::EventStore> open() const;
};

/// One log line for an import: how many events were stored, and how many deleted users' skipped.
void log_import(const store::ImportResult& r, const std::string& url);

}  // namespace driftrec::cli
