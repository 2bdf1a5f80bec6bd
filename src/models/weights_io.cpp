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

template <typename T>
std::string raw(const std::vector<T>& data, const std::vector<std::uint64_t>& shape, const std::string& name) {
  if (elements(shape) != data.size())
    throw InvalidInput("weights '" + name + "': shape " + shape_str(shape) + " does not match " +
                       std::to_string(data.size()) + " values");
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
  entries_.push_back({n, 0, s, raw(d, s, n)});
}
void WeightsWriter::add_i32(const std::string& n, const std::vector<std::int32_t>& d, std::vector<std::uint64_t> s) {
  entries_.push_back({n, 1, s, raw(d, s, n)});
}
void WeightsWriter::add_i64(const std::string& n, const std::vector<std::int64_t>& d, std::vector<std::uint64_t> s) {
  entries_.push_back({n, 2, s, raw(d, s, n)});
}

void WeightsWriter::write(const std::string& path) const {
  std::string buf(kMagic, 4);
  put(buf, kVersion);
  put(buf, static_cast<std::uint32_t>(entries_.size()));
  for (const auto& e : entries_) {
    put(buf, static_cast<std::uint32_t>(e.name.size()));
    buf += e.name;
    put(buf, e.dtype);
    put(buf, static_cast<std::uint32_t>(e.shape.size()));
    for (auto d : e.shape) put(buf, d);
    buf += e.bytes;
  }
  Fingerprint fp;
  fp.add_bytes(buf.data(), buf.size());
  put(buf, fp.value());
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError(path + ": cannot open for writing");
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out.flush()) throw IoError(path + ": write failed");
}

WeightsReader::WeightsReader(const std::string& path) : path_(path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) throw IoError(path + ": cannot open weights file (missing)");
  if (!std::filesystem::is_regular_file(st)) throw CorruptModel(path + ": not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(path + ": cannot read its size: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open weights file");
  std::string buf(static_cast<std::size_t>(size), '\0');
  in.read(buf.data(), static_cast<std::streamsize>(size));
  buf.resize(static_cast<std::size_t>(in.gcount()));
  auto corrupt = [&](const std::string& why) { return CorruptModel(path + ": " + why); };
  if (buf.size() < 4 + 4 + 4 + 8 || std::memcmp(buf.data(), kMagic, 4) != 0)
    throw corrupt("not a DriftRec weights file");
  Fingerprint fp;
  fp.add_bytes(buf.data(), buf.size() - 8);
  std::uint64_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - 8, 8);
  if (stored != fp.value()) throw corrupt("checksum mismatch (file truncated or modified)");
  std::size_t pos = 4;
  const std::size_t end = buf.size() - 8;
  auto take = [&](void* dst, std::size_t n) {
    if (pos + n > end) throw corrupt("unexpected end of data");
    std::memcpy(dst, buf.data() + pos, n);
    pos += n;
  };
  std::uint32_t version, count;
  take(&version, 4);
  if (version != kVersion) throw corrupt("weights format version " + std::to_string(version) + " is not supported");
  take(&count, 4);
  for (std::uint32_t k = 0; k < count; ++k) {
    std::uint32_t len;
    take(&len, 4);
    if (pos + len > end) throw corrupt("unexpected end of data");
    std::string name = buf.substr(pos, len);
    pos += len;
    Entry e;
    take(&e.dtype, 1);
    if (e.dtype > 2) throw corrupt("array '" + name + "' has an unknown dtype");
    std::uint32_t ndim;
    take(&ndim, 4);
    if (ndim > 8) throw corrupt("array '" + name + "' has too many dimensions");
    e.shape.resize(ndim);
    for (auto& d : e.shape) take(&d, 8);
    const std::size_t width = e.dtype == 2 ? 8 : 4;
    const std::uint64_t n = elements(e.shape);
    if (n > (end - pos) / width) throw corrupt("array '" + name + "' is larger than the file");
    e.bytes = buf.substr(pos, n * width);
    pos += n * width;
    entries_.emplace(std::move(name), std::move(e));
  }
  if (pos != end) throw corrupt("trailing bytes after the last array");
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
  return from_raw<float>(get(n, 0, s).bytes);
}
std::vector<std::int32_t> WeightsReader::i32(const std::string& n, const std::vector<std::uint64_t>& s) const {
  return from_raw<std::int32_t>(get(n, 1, s).bytes);
}
std::vector<std::int64_t> WeightsReader::i64(const std::string& n, const std::vector<std::uint64_t>& s) const {
  return from_raw<std::int64_t>(get(n, 2, s).bytes);
}

}  // namespace driftrec::models
