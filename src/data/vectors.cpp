#include "driftrec/data/vectors.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "driftrec/core/error.h"

namespace driftrec::data {

namespace {

std::vector<std::string> split_fields(const std::string& line, bool commas) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r' || (commas && c == ',')) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool parse_float(const std::string& s, float* out) {
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (end != s.c_str() + s.size() || s.empty()) return false;
  *out = v;
  return true;
}

// Rows of "id v1 ... vD" text. `header`: how a first line that does not fit is treated.
VectorTable read_rows(const std::string& path, bool commas, bool word2vec_header) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open");
  VectorTable t;
  std::unordered_set<std::string> seen;
  std::string line;
  std::int64_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    auto f = split_fields(line, commas);
    if (f.empty()) continue;
    if (no == 1 && word2vec_header && f.size() == 2) {  // "count dim"
      float a = 0, b = 0;
      if (parse_float(f[0], &a) && parse_float(f[1], &b)) continue;
    }
    std::vector<float> v(f.size() - 1);
    bool ok = f.size() >= 2;
    for (std::size_t k = 1; ok && k < f.size(); ++k) ok = parse_float(f[k], &v[k - 1]);
    if (!ok) {
      if (no == 1 && !word2vec_header) continue;  // header line of an item-vector file
      throw ParseError(
          path, no, f.size() < 2 ? "vector" : "value",
          f.size() < 2 ? "expected an id followed by numbers" : "not a number in '" + line.substr(0, 60) + "'");
    }
    if (t.dim == 0) t.dim = static_cast<int>(v.size());
    if (static_cast<int>(v.size()) != t.dim)
      throw ParseError(path, no, "vector",
                       "has " + std::to_string(v.size()) + " values, earlier lines have " + std::to_string(t.dim));
    if (!seen.insert(f[0]).second) throw ParseError(path, no, "id", "'" + f[0] + "' appears twice");
    t.ids.push_back(f[0]);
    t.values.insert(t.values.end(), v.begin(), v.end());
  }
  if (t.ids.empty()) throw InvalidInput(path + ": no vectors");
  return t;
}

// A minimal .npy reader: version 1-3 header, '<f4' or '<f8', C order, 2-D.
VectorTable read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw ParseError(path, 1, "magic", "not a NumPy .npy file");
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) throw ParseError(path, 1, "header", "truncated header");
  auto value_of = [&](const std::string& key) {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) throw ParseError(path, 1, key, "missing in the header");
    return header.substr(header.find(':', k) + 1);
  };
  const auto descr = value_of("descr");
  const bool f4 = descr.find("<f4") != std::string::npos, f8 = descr.find("<f8") != std::string::npos;
  if (!f4 && !f8) throw ParseError(path, 1, "descr", "only little-endian float32/float64 are supported");
  const auto order = value_of("fortran_order");
  if (order.substr(0, order.find(',')).find("True") != std::string::npos)
    throw ParseError(path, 1, "fortran_order", "Fortran-order arrays are not supported");
  const auto shape = value_of("shape");
  const auto open = shape.find('('), close = shape.find(')');
  std::vector<long long> dims;
  std::stringstream ss(shape.substr(open + 1, close - open - 1));
  for (std::string part; std::getline(ss, part, ',');)
    if (part.find_first_not_of(" ") != std::string::npos) dims.push_back(std::atoll(part.c_str()));
  if (dims.size() != 2 || dims[0] <= 0 || dims[1] <= 0) throw ParseError(path, 1, "shape", "expected a 2-D matrix");
  VectorTable t;
  t.dim = static_cast<int>(dims[1]);
  const auto n = static_cast<std::size_t>(dims[0] * dims[1]);
  t.values.resize(n);
  if (f4) {
    if (!in.read(reinterpret_cast<char*>(t.values.data()), static_cast<std::streamsize>(n * 4)))
      throw ParseError(path, 1, "data", "shorter than its shape says");
  } else {
    std::vector<double> d(n);
    if (!in.read(reinterpret_cast<char*>(d.data()), static_cast<std::streamsize>(n * 8)))
      throw ParseError(path, 1, "data", "shorter than its shape says");
    for (std::size_t i = 0; i < n; ++i) t.values[i] = static_cast<float>(d[i]);
  }
  const auto ids_path = std::filesystem::path(path).replace_extension(".ids").string();
  std::ifstream ids(ids_path);
  if (!ids) throw IoError(ids_path + ": cannot open (the item ids of " + path + ", one per line)");
  std::unordered_set<std::string> seen;
  std::int64_t no = 0;
  for (std::string line; std::getline(ids, line);) {
    ++no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (!seen.insert(line).second) throw ParseError(ids_path, no, "id", "'" + line + "' appears twice");
    t.ids.push_back(line);
  }
  if (static_cast<long long>(t.ids.size()) != dims[0])
    throw ParseError(ids_path, no, "id",
                     std::to_string(t.ids.size()) + " ids for " + std::to_string(dims[0]) + " rows of " + path);
  return t;
}

}  // namespace

VectorTable read_word_vectors(const std::string& path) { return read_rows(path, false, true); }

VectorTable read_item_vectors(const std::string& path) {
  const auto ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") return read_npy(path);
  return read_rows(path, true, false);
}

}  // namespace driftrec::data
