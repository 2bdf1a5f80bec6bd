#include "driftrec/data/id_map.h"

#include <fstream>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"

namespace driftrec::data {

IdMap::IdMap() { names_.emplace_back("[PAD]"); }

std::int32_t IdMap::add(std::string_view id) {
  auto it = index_.find(std::string(id));
  if (it != index_.end()) return it->second;
  const auto idx = static_cast<std::int32_t>(names_.size());
  names_.emplace_back(id);
  index_.emplace(names_.back(), idx);
  return idx;
}

std::int32_t IdMap::find(std::string_view id) const {
  auto it = index_.find(std::string(id));
  return it == index_.end() ? -1 : it->second;
}

const std::string& IdMap::name(std::int32_t i) const {
  if (i <= 0 || i >= size()) throw NotFound("no id at index " + std::to_string(i));
  return names_[static_cast<std::size_t>(i)];
}

std::string IdMap::checksum() const {
  Fingerprint fp;
  for (std::size_t i = 1; i < names_.size(); ++i) fp.add(names_[i]);
  return fp.hex();
}

void IdMap::save_tsv(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError(path + ": cannot open for writing");
  for (std::size_t i = 1; i < names_.size(); ++i) out << names_[i] << '\n';
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

std::int32_t StringTable::add(std::string_view s) {
  auto it = index_.find(std::string(s));
  if (it != index_.end()) return it->second;
  const auto idx = static_cast<std::int32_t>(names_.size());
  names_.emplace_back(s);
  index_.emplace(names_.back(), idx);
  return idx;
}

std::int32_t StringTable::find(std::string_view s) const {
  auto it = index_.find(std::string(s));
  return it == index_.end() ? -1 : it->second;
}

}  // namespace driftrec::data
