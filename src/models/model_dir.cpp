#include "driftrec/models/model_dir.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"
#include "driftrec/models/registry.h"
#include "driftrec/train/epoch_record.h"

namespace fs = std::filesystem;

namespace driftrec::models {

namespace {
std::string now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  if (!out) throw IoError(p.string() + ": cannot open for writing");
  out << text;
  if (!out.flush()) throw IoError(p.string() + ": write failed");
}

// A model directory's files must be regular files (after symlinks): a FIFO, a device such as
// /dev/zero or a directory would block or never end. Returns the size.
std::uintmax_t regular_file_size(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (ec || !fs::exists(st)) throw CorruptModel(p.string() + ": missing");
  if (!fs::is_regular_file(st)) throw CorruptModel(p.string() + ": not a regular file");
  const auto size = fs::file_size(p, ec);
  if (ec) throw IoError(p.string() + ": cannot read its size: " + ec.message());
  return size;
}

// Fingerprint of a file's bytes: catches truncated or altered files whatever their format. Reads
// at most the size the file had when checked, so a file that grows while read cannot hang it.
std::string file_checksum(const fs::path& p) { return file_fingerprint(p.string(), regular_file_size(p)); }

template <typename T>
T field(const nlohmann::json& j, const char* name, const std::string& file) {
  if (!j.contains(name)) throw CorruptModel(file + ": missing field '" + name + "'");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw CorruptModel(file + ": field '" + std::string(name) + "' has the wrong type");
  }
}
}  // namespace

namespace {

/// Fills a temporary sibling of `dir` with `fill` and renames it into place (the old directory, if
/// any, is moved aside first, then removed). Throws IoError; the temporary is removed on failure.
void write_directory(const std::string& dir, const std::function<void(const fs::path&)>& fill) {
  const fs::path target = fs::absolute(dir);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  fs::path tmp = target;
  tmp += ".tmp-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) throw IoError(tmp.string() + ": cannot create directory: " + ec.message());
  try {
    fill(tmp);
    fs::path old = target;
    old += ".old";
    fs::remove_all(old);
    if (fs::exists(target)) fs::rename(target, old);
    fs::rename(tmp, target);
    fs::remove_all(old);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw IoError(dir + ": " + e.what());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

/// model.json's record of the weights file written into `dir`.
nlohmann::json weights_entry(const fs::path& dir, const Model& model) {
  const auto path = dir / model.weights_file();
  return {{"file", model.weights_file()}, {"checksum", file_checksum(path)}, {"size", regular_file_size(path)}};
}

/// Merges `extra` into `meta` and writes it as dir/model.json.
void write_meta(const fs::path& dir, nlohmann::json& meta, const nlohmann::json& extra) {
  for (auto it = extra.begin(); it != extra.end(); ++it) meta[it.key()] = it.value();
  write_text(dir / "model.json", meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

/// [[length, users], ...] ascending: how many training users have each history length.
nlohmann::json history_length_histogram(const data::InteractionLog& log) {
  std::map<std::int64_t, std::int64_t> n;
  for (std::int32_t u = 1; u + 1 < static_cast<std::int32_t>(log.offsets.size()); ++u)
    if (log.user_length(u) > 0) ++n[log.user_length(u)];
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [length, users] : n) out.push_back({length, users});
  return out;
}

std::vector<std::int64_t> read_item_counts(const fs::path& path, std::int32_t items) {
  std::ifstream in(path);
  std::vector<std::int64_t> out{0};
  std::string line;
  while (std::getline(in, line)) {
    char* end = nullptr;
    const long long v = std::strtoll(line.c_str(), &end, 10);
    if (line.empty() || *end != '\0' || v < 0)
      throw CorruptModel(path.string() + ":" + std::to_string(out.size()) + ": not a count: '" + line + "'");
    out.push_back(v);
  }
  if (static_cast<std::int64_t>(out.size()) != std::int64_t{items} + 1)
    throw CorruptModel(path.string() + ": " + std::to_string(out.size() - 1) + " lines for " + std::to_string(items) +
                       " items");
  return out;
}

}  // namespace

void save_model_dir(const std::string& dir, const Model& model, const data::Dataset& train,
                    const nlohmann::json& extra) {
  if (!model.fitted()) throw InvalidInput("cannot save an unfitted model");
  write_directory(dir, [&](const fs::path& tmp) {
    model.save_weights((tmp / model.weights_file()).string());
    // A model without user slots (private and federated models fold every user in) gets no user
    // list: the training users' ids would reveal who was in the data.
    const data::IdMap no_users;
    const data::IdMap& users = model.n_users() > 1 ? train.users : no_users;
    users.save_tsv((tmp / "users.tsv").string());
    train.items.save_tsv((tmp / "items.tsv").string());
    std::string behaviors;
    for (const auto& b : train.behaviors.names()) behaviors += b + "\n";
    write_text(tmp / "behaviors.tsv", behaviors);
    const auto& t = train.item_table;
    if (t.has_categories()) {
      std::string cats;
      for (std::int32_t i = 1; i < train.items.size(); ++i) {
        const auto ii = static_cast<std::size_t>(i);
        if (ii + 1 < t.category_offsets.size())
          for (auto q = t.category_offsets[ii]; q < t.category_offsets[ii + 1]; ++q)
            cats += (q > t.category_offsets[ii] ? "|" : "") +
                    t.categories.name(t.category_ids[static_cast<std::size_t>(q)]);
        cats += "\n";
      }
      write_text(tmp / "item_categories.tsv", cats);
    }
    // Training counts for the re-rankers; a model without user slots keeps no per-user facts.
    const bool counts = model.n_users() > 1;
    if (counts) {
      std::string lines;
      const auto c = data::item_counts(train.log, train.items.size());
      for (std::size_t i = 1; i < c.size(); ++i) lines += std::to_string(c[i]) + "\n";
      write_text(tmp / "item_counts.tsv", lines);
    }
    nlohmann::json meta = {
        {"format_version", kModelFormatVersion},
        {"model", model.name()},
        {"config", model.config()},
        {"data",
         {{"name", train.name},
          {"fingerprint", train.fingerprint()},
          {"users", train.users.count()},
          {"items", train.items.count()},
          {"events", train.log.size()},
          {"has_clock", train.has_clock}}},
        {"id_maps", {{"users", users.checksum()}, {"items", train.items.checksum()}}},
        {"n_items", model.n_items()},
        {"weights", weights_entry(tmp, model)},
        {"n_users", model.n_users()},
        {"created", now_iso()},
    };
    meta["checksums"] = {{"behaviors.tsv", file_checksum(tmp / "behaviors.tsv")}};
    if (t.has_categories()) meta["checksums"]["item_categories.tsv"] = file_checksum(tmp / "item_categories.tsv");
    if (counts) {
      meta["checksums"]["item_counts.tsv"] = file_checksum(tmp / "item_counts.tsv");
      meta["user_history_lengths"] = history_length_histogram(train.log);
    }
    const auto report = model.training_report();
    for (auto it = report.begin(); it != report.end(); ++it) meta[it.key()] = it.value();
    write_meta(tmp, meta, extra);
  });
}

void set_training_counts(LoadedModel& loaded, const data::Dataset& train) {
  if (!loaded.model || loaded.model->n_users() <= 1) return;
  loaded.item_counts = data::item_counts(train.log, train.items.size());
  loaded.meta["user_history_lengths"] = history_length_histogram(train.log);
}

void save_fine_tuned(const std::string& source_dir, const std::string& dir, const Model& model,
                     const nlohmann::json& extra) {
  auto meta = read_model_meta(source_dir);
  if (meta.value("model", "") != model.name() || meta.value("n_items", 0) != model.n_items())
    throw InvalidInput(dir + ": the fine-tuned model is not a " + meta.value("model", std::string("?")) + " over " +
                       source_dir + "'s items");
  write_directory(dir, [&](const fs::path& tmp) {
    for (const auto& entry : fs::directory_iterator(source_dir))
      if (entry.is_regular_file() && entry.path().filename() != "model.json")
        fs::copy_file(entry.path(), tmp / entry.path().filename());
    model.save_weights((tmp / model.weights_file()).string());
    meta["weights"] = weights_entry(tmp, model);
    meta["created"] = now_iso();
    meta["fine_tuned_from"] = fs::absolute(source_dir).string();
    write_meta(tmp, meta, extra);
  });
}

void copy_model_dir(const std::string& source_dir, const std::string& dir) {
  load_model_dir(source_dir);  // refuses a damaged source
  write_directory(dir, [&](const fs::path& tmp) {
    for (const auto& entry : fs::directory_iterator(source_dir))
      if (entry.is_regular_file()) fs::copy_file(entry.path(), tmp / entry.path().filename());
  });
}

nlohmann::json read_model_meta(const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw NotFound(dir + ": no such model directory");
  const std::string meta_path = (d / "model.json").string();
  if (!fs::exists(meta_path)) throw CorruptModel(meta_path + ": missing (not a DriftRec model directory?)");
  if (regular_file_size(meta_path) > (std::uintmax_t{64} << 20)) throw CorruptModel(meta_path + ": larger than 64 MiB");
  std::ifstream in(meta_path);
  if (!in) throw CorruptModel(meta_path + ": cannot be read");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw CorruptModel(meta_path + ": invalid JSON: " + e.what());
  }
  const auto version = field<int>(meta, "format_version", meta_path);
  if (version != kModelFormatVersion)
    throw CorruptModel(meta_path + ": format_version " + std::to_string(version) + " is not supported (expected " +
                       std::to_string(kModelFormatVersion) + ")");
  return meta;
}

int best_epoch(const nlohmann::json& meta) {
  auto int_at = [](const nlohmann::json& j, const char* key, int fallback) {
    return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : fallback;
  };
  const int epochs = int_at(meta, "epochs", 0);
  if (epochs <= 0) return 0;
  std::vector<train::EpochRecord> history;
  if (meta.contains("history") && meta["history"].is_array())
    for (const auto& h : meta["history"]) history.push_back(train::EpochRecord::from_json(h));
  const int best = train::best_validated_epoch(history);
  if (best > 0) return best;
  const nlohmann::json config = meta.contains("config") ? meta["config"] : nlohmann::json::object();
  const int planned = int_at(config, "epochs", epochs);
  if (epochs < planned) return std::max(1, epochs - int_at(config, "patience", 0) * int_at(config, "eval_every", 1));
  return epochs;
}

namespace {
/// item_categories.tsv: one line per item (from index 1), its categories joined by '|'.
void read_item_categories(const fs::path& path, std::int32_t n_items, data::ItemTable& t) {
  std::ifstream cf(path);
  if (!cf) throw IoError(path.string() + ": cannot open");
  std::string line;
  std::int32_t item = 0;
  while (std::getline(cf, line)) {
    ++item;
    std::size_t b = 0;
    while (b < line.size()) {
      auto e = line.find('|', b);
      if (e == std::string::npos) e = line.size();
      if (e > b) t.category_ids.push_back(t.categories.add(line.substr(b, e - b)));
      b = e + 1;
    }
    t.category_offsets.push_back(static_cast<std::int64_t>(t.category_ids.size()));
  }
  if (item != n_items)
    throw CorruptModel(path.string() + ": " + std::to_string(item) + " lines for " + std::to_string(n_items) +
                       " items");
  t.category_offsets.insert(t.category_offsets.begin(), 0);  // padding item 0 has none
}
}  // namespace

LoadedModel load_model_dir(const std::string& dir) {
  const fs::path d(dir);
  const std::string meta_path = (d / "model.json").string();
  LoadedModel out;
  out.meta = read_model_meta(dir);
  const auto name = field<std::string>(out.meta, "model", meta_path);
  const auto config = field<nlohmann::json>(out.meta, "config", meta_path);
  try {
    out.model = create_model(name, config);
  } catch (const Error& e) {
    throw CorruptModel(meta_path + ": " + e.what());
  }
  // Files the model.json checksums cover (older directories have no "checksums": not checked).
  const nlohmann::json sums = out.meta.contains("checksums") && out.meta["checksums"].is_object()
                                  ? out.meta["checksums"]
                                  : nlohmann::json::object();
  for (auto it = sums.begin(); it != sums.end(); ++it) {
    if (it.key() != "behaviors.tsv" && it.key() != "item_categories.tsv" && it.key() != "item_counts.tsv")
      throw CorruptModel(meta_path + ": checksums: unknown file '" + it.key() + "'");
    if (!it.value().is_string() || file_checksum(d / it.key()) != it.value().get<std::string>())
      throw CorruptModel((d / it.key()).string() + ": checksum differs from model.json (truncated or modified)");
  }
  for (const char* f : {"users.tsv", "items.tsv", "behaviors.tsv"}) regular_file_size(d / f);
  for (const char* f : {"item_categories.tsv", "item_counts.tsv"})
    if (fs::exists(d / f)) regular_file_size(d / f);
  out.users = data::IdMap::load_tsv((d / "users.tsv").string());
  out.items = data::IdMap::load_tsv((d / "items.tsv").string());
  const auto maps = field<nlohmann::json>(out.meta, "id_maps", meta_path);
  if (field<std::string>(maps, "users", meta_path) != out.users.checksum())
    throw CorruptModel((d / "users.tsv").string() + ": checksum differs from model.json");
  if (field<std::string>(maps, "items", meta_path) != out.items.checksum())
    throw CorruptModel((d / "items.tsv").string() + ": checksum differs from model.json");
  {
    std::ifstream bf(d / "behaviors.tsv");
    std::string line;
    while (std::getline(bf, line)) out.behaviors.add(line);
  }
  if (fs::exists(d / "item_categories.tsv"))
    read_item_categories(d / "item_categories.tsv", out.items.count(), out.item_table);
  if (fs::exists(d / "item_counts.tsv")) out.item_counts = read_item_counts(d / "item_counts.tsv", out.items.count());
  const auto weights = field<nlohmann::json>(out.meta, "weights", meta_path);
  const auto wfile = field<std::string>(weights, "file", meta_path);
  if (wfile != out.model->weights_file() || wfile.find('/') != std::string::npos)
    throw CorruptModel(meta_path + ": weights file '" + wfile + "' does not belong to model " + name);
  const auto wsize = regular_file_size(d / wfile);
  if (weights.contains("size") &&
      (!weights["size"].is_number_unsigned() || weights["size"].get<std::uintmax_t>() != wsize))
    throw CorruptModel((d / wfile).string() + ": " + std::to_string(wsize) + " bytes, model.json says " +
                       weights["size"].dump() + " (truncated or modified)");
  if (file_checksum(d / wfile) != field<std::string>(weights, "checksum", meta_path))
    throw CorruptModel((d / wfile).string() + ": checksum differs from model.json (truncated or modified)");
  const int meta_items = field<int>(out.meta, "n_items", meta_path);
  if (meta_items != out.items.size())
    throw CorruptModel(meta_path + ": n_items is " + std::to_string(meta_items) + " but items.tsv has " +
                       std::to_string(out.items.size()) + " item slots (ids + padding)");
  out.model->load_weights((d / wfile).string());
  if (out.model->n_items() != out.items.size())
    throw CorruptModel(dir + ": weights cover " + std::to_string(out.model->n_items()) +
                       " item slots but items.tsv has " + std::to_string(out.items.size()));
  if (out.model->n_users() != out.users.size())
    throw CorruptModel(dir + ": weights cover " + std::to_string(out.model->n_users()) +
                       " user slots but users.tsv has " + std::to_string(out.users.size()));
  return out;
}

}  // namespace driftrec::models
