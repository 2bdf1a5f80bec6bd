#include "driftrec/models/weights_io.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"

namespace driftrec::models {

namespace {
constexpr char kMagic[4] = {'D', 'R', 'W', 'T'};
constexpr std::uint32_t kVersion = 1;

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::uint64_t elements(const std::vector<std::uint64_t>& shape) {
  std::uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<std::uint64_t>& s) {
  std::string o = "[";
  for (std::size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

void check_shape(std::size_t values, const std::vector<std::uint64_t>& shape, const std::string& name) {
  if (elements(shape) != values)
    throw InvalidInput("weights '" + name + "': shape " + shape_str(shape) + " does not match " +
                       std::to_string(values) + " values");
}

template <typename T>
std::string raw(const std::vector<T>& data, const std::vector<std::uint64_t>& shape, const std::string& name) {
  check_shape(data.size(), shape, name);
  return std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(T));
}

template <typename T>
std::vector<T> from_raw(const std::string& bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}
}  // namespace

void WeightsWriter::add_f32(const std::string& n, const std::vector<float>& d, std::vector<std::uint64_t> s) {
  entries_.push_back({n, 0, s, raw(d, s, n), nullptr, 0});
}
void WeightsWriter::add_f32_view(const std::string& n, const std::vector<float>& d, std::vector<std::uint64_t> s) {
  check_shape(d.size(), s, n);
  entries_.push_back({n, 0, s, {}, reinterpret_cast<const char*>(d.data()), d.size() * sizeof(float)});
}
void WeightsWriter::add_i32(const std::string& n, const std::vector<std::int32_t>& d, std::vector<std::uint64_t> s) {
  entries_.push_back({n, 1, s, raw(d, s, n), nullptr, 0});
}
void WeightsWriter::add_i64(const std::string& n, const std::vector<std::int64_t>& d, std::vector<std::uint64_t> s) {
  entries_.push_back({n, 2, s, raw(d, s, n), nullptr, 0});
}

namespace {
// Writes bytes to the file and into the running checksum.
struct HashedOut {
  std::ofstream out;
  Fingerprint fp;
  void bytes(const void* p, std::size_t n) {
    fp.add_bytes(p, n);
    out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  }
  template <typename T>
  void pod(const T& v) {
    bytes(&v, sizeof(T));
  }
};

// Reads bytes from the file into the running checksum, never past `end` (the checksum's offset).
struct HashedIn {
  std::ifstream in;
  Fingerprint fp;
  std::uint64_t pos = 0, end = 0;
  std::string path;
  CorruptModel corrupt(const std::string& why) const { return CorruptModel(path + ": " + why); }
  void bytes(void* p, std::size_t n) {
    if (n > end - pos) throw corrupt("unexpected end of data");
    in.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) throw IoError(path + ": read failed");
    fp.add_bytes(p, n);
    pos += n;
  }
  template <typename T>
  T pod() {
    T v;
    bytes(&v, sizeof(T));
    return v;
  }
};
}  // namespace

// Streamed (no copy of the archive in memory): a model of n x n floats peaks at its own arrays.
void WeightsWriter::write(const std::string& path) const {
  HashedOut o;
  o.out.open(path, std::ios::binary);
  if (!o.out) throw IoError(path + ": cannot open for writing");
  o.bytes(kMagic, 4);
  o.pod(kVersion);
  o.pod(static_cast<std::uint32_t>(entries_.size()));
  for (const auto& e : entries_) {
    o.pod(static_cast<std::uint32_t>(e.name.size()));
    o.bytes(e.name.data(), e.name.size());
    o.pod(e.dtype);
    o.pod(static_cast<std::uint32_t>(e.shape.size()));
    for (auto d : e.shape) o.pod(d);
    if (e.view)
      o.bytes(e.view, e.view_size);
    else
      o.bytes(e.bytes.data(), e.bytes.size());
  }
  const auto sum = o.fp.value();
  o.out.write(reinterpret_cast<const char*>(&sum), sizeof(sum));
  if (!o.out.flush()) throw IoError(path + ": write failed");
}

WeightsReader::WeightsReader(const std::string& path) : path_(path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) throw IoError(path + ": cannot open weights file (missing)");
  if (!std::filesystem::is_regular_file(st)) throw CorruptModel(path + ": not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(path + ": cannot read its size: " + ec.message());
  HashedIn in;
  in.path = path;
  in.in.open(path, std::ios::binary);
  if (!in.in) throw IoError(path + ": cannot open weights file");
  if (size < 4 + 4 + 4 + 8) throw in.corrupt("not a DriftRec weights file");
  in.end = static_cast<std::uint64_t>(size) - 8;
  char magic[4];
  in.bytes(magic, 4);
  if (std::memcmp(magic, kMagic, 4) != 0) throw in.corrupt("not a DriftRec weights file");
  const auto version = in.pod<std::uint32_t>();
  if (version != kVersion) throw in.corrupt("weights format version " + std::to_string(version) + " is not supported");
  const auto count = in.pod<std::uint32_t>();
  for (std::uint32_t k = 0; k < count; ++k) {
    const auto len = in.pod<std::uint32_t>();
    if (len > in.end - in.pos) throw in.corrupt("unexpected end of data");
    std::string name(len, '\0');
    in.bytes(name.data(), len);
    Entry e;
    e.dtype = in.pod<std::uint8_t>();
    if (e.dtype > 2) throw in.corrupt("array '" + name + "' has an unknown dtype");
    const auto ndim = in.pod<std::uint32_t>();
    if (ndim > 8) throw in.corrupt("array '" + name + "' has too many dimensions");
    e.shape.resize(ndim);
    for (auto& d : e.shape) d = in.pod<std::uint64_t>();
    const std::size_t width = e.dtype == 2 ? 8 : 4;
    std::uint64_t n = 1;  // elements, refusing a product that overflows or exceeds the file
    for (auto d : e.shape) {
      if (d != 0 && n > (in.end - in.pos) / width / d) throw in.corrupt("array '" + name + "' is larger than the file");
      n *= d;
    }
    if (n > (in.end - in.pos) / width) throw in.corrupt("array '" + name + "' is larger than the file");
    if (e.dtype == 0) {  // floats straight into their vector (f32 / take_f32 copy or move them out)
      e.floats.resize(static_cast<std::size_t>(n));
      in.bytes(e.floats.data(), e.floats.size() * sizeof(float));
    } else {
      e.bytes.resize(static_cast<std::size_t>(n * width));
      in.bytes(e.bytes.data(), e.bytes.size());
    }
    entries_.emplace(std::move(name), std::move(e));
  }
  if (in.pos != in.end) throw in.corrupt("trailing bytes after the last array");
  std::uint64_t stored = 0;
  in.in.read(reinterpret_cast<char*>(&stored), 8);
  if (in.in.gcount() != 8) throw IoError(path + ": read failed");
  if (stored != in.fp.value()) throw in.corrupt("checksum mismatch (file truncated or modified)");
}

const WeightsReader::Entry& WeightsReader::get(const std::string& name, std::uint8_t dtype,
                                               const std::vector<std::uint64_t>& shape) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw CorruptModel(path_ + ": array '" + name + "' is missing");
  if (it->second.dtype != dtype) throw CorruptModel(path_ + ": array '" + name + "' has the wrong dtype");
  if (it->second.shape != shape)
    throw CorruptModel(path_ + ": array '" + name + "' has shape " + shape_str(it->second.shape) + ", expected " +
                       shape_str(shape));
  return it->second;
}

std::vector<std::uint64_t> WeightsReader::shape(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw CorruptModel(path_ + ": array '" + name + "' is missing");
  return it->second.shape;
}

std::vector<float> WeightsReader::f32(const std::string& n, const std::vector<std::uint64_t>& s) const {
  return get(n, 0, s).floats;
}
std::vector<float> WeightsReader::take_f32(const std::string& n, const std::vector<std::uint64_t>& s) {
  get(n, 0, s);  // checks presence, dtype and shape
  const auto it = entries_.find(n);
  auto out = std::move(it->second.floats);
  entries_.erase(it);
  return out;
}
std::vector<std::int32_t> WeightsReader::i32(const std::string& n, const std::vector<std::uint64_t>& s) const {
  return from_raw<std::int32_t>(get(n, 1, s).bytes);
}
std::vector<std::int64_t> WeightsReader::i64(const std::string& n, const std::vector<std::uint64_t>& s) const {
  return from_raw<std::int64_t>(get(n, 2, s).bytes);
}

}  // namespace driftrec::models
