#include "driftrec/data/id_map.h"

#include <fstream>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"

namespace driftrec::data {

std::int32_t IdMap::add(std::string_view id) { return ids_.add(id) + 1; }

std::int32_t IdMap::find(std::string_view id) const {
  const auto i = ids_.find(id);
  return i < 0 ? -1 : i + 1;
}

const std::string& IdMap::name(std::int32_t i) const {
  if (i <= 0 || i >= size()) throw NotFound("no id at index " + std::to_string(i));
  return ids_.name(i - 1);
}

std::string IdMap::checksum() const {
  Fingerprint fp;
  for (const auto& n : ids_.names()) fp.add(n);
  return fp.hex();
}

void IdMap::save_tsv(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError(path + ": cannot open for writing");
  for (const auto& n : ids_.names()) out << n << '\n';
  if (!out.flush()) throw IoError(path + ": write failed");
}

IdMap IdMap::load_tsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading");
  IdMap m;
  std::string line;
  std::int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw CorruptModel(path + ":" + std::to_string(line_no) + ": empty id");
    if (m.add(line) != m.size() - 1)
      throw CorruptModel(path + ":" + std::to_string(line_no) + ": duplicate id '" + line + "'");
  }
  return m;
}

StringTable::StringTable(const StringTable& other) : names_(other.names_) {
  index_.reserve(names_.size());
  for (std::size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<std::int32_t>(i));
}

StringTable& StringTable::operator=(const StringTable& other) {
  if (this != &other) *this = StringTable(other);
  return *this;
}

std::int32_t StringTable::add(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  const auto idx = static_cast<std::int32_t>(names_.size());
  names_.emplace_back(s);
  index_.emplace(names_.back(), idx);
  return idx;
}

std::int32_t StringTable::find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace driftrec::data
