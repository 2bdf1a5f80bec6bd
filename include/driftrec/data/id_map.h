#pragma once
// IdMap: external string ids <-> dense int32 indices. Index 0 is reserved for padding (sequence
// models use it), so real ids get 1..size()-1 in order of first appearance.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace driftrec::data {

constexpr std::int32_t kPadding = 0;

/// A table of names (ids, behaviour types, domains, categories, tokens), index 0 first added.
/// The index is keyed by views of the stored names (a deque never moves its elements), so a
/// lookup allocates nothing; copies rebuild the index over their own names.
class StringTable {
 public:
  StringTable() = default;
  StringTable(const StringTable& other);
  StringTable& operator=(const StringTable& other);
  StringTable(StringTable&&) = default;
  StringTable& operator=(StringTable&&) = default;

  std::int32_t add(std::string_view s);
  std::int32_t find(std::string_view s) const;
  const std::string& name(std::int32_t i) const { return names_.at(static_cast<std::size_t>(i)); }
  std::int32_t size() const { return static_cast<std::int32_t>(names_.size()); }
  const std::deque<std::string>& names() const { return names_; }

 private:
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, std::int32_t> index_;  // views into names_
};

class IdMap {
 public:
  /// Index of `id`, adding it when new.
  std::int32_t add(std::string_view id);
  /// Index of `id`, or -1 when unknown.
  std::int32_t find(std::string_view id) const;
  bool contains(std::string_view id) const { return find(id) >= 0; }
  /// External id of index `i` (1 <= i < size()); throws NotFound otherwise.
  const std::string& name(std::int32_t i) const;
  /// Slots including the padding slot 0: valid indices are 1..size()-1.
  std::int32_t size() const { return ids_.size() + 1; }
  /// Number of real ids (size() - 1).
  std::int32_t count() const { return size() - 1; }
  /// Order-sensitive fingerprint of all ids (saved in model.json, checked on load).
  std::string checksum() const;

  /// One id per line, line k holding index k (line 1 = index 1). Throws IoError.
  void save_tsv(const std::string& path) const;
  static IdMap load_tsv(const std::string& path);

 private:
  StringTable ids_;  // real ids; IdMap index = table index + 1 (slot 0 is padding)
};

}  // namespace driftrec::data
