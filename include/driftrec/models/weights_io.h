#pragma once
// A small checksummed archive of named arrays for the classic models' weights, written and read
// streamed (a large array is held once).
// Layout: "DRWT" magic, u32 version, u32 count, then per array: u32 name length, name bytes,
// u8 dtype (0 = f32, 1 = i32, 2 = i64), u32 ndim, u64 dims[ndim], raw little-endian data;
// finally the FNV-1a 64 checksum of every byte before it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace driftrec::models {

class WeightsWriter {
 public:
  void add_f32(const std::string& name, const std::vector<float>& data, std::vector<std::uint64_t> shape);
  /// Like add_f32 without copying: `data` must outlive write() (for arrays of gigabytes, e.g. EASE's
  /// n x n weights, so that saving needs no second copy).
  void add_f32_view(const std::string& name, const std::vector<float>& data, std::vector<std::uint64_t> shape);
  void add_i32(const std::string& name, const std::vector<std::int32_t>& data, std::vector<std::uint64_t> shape);
  void add_i64(const std::string& name, const std::vector<std::int64_t>& data, std::vector<std::uint64_t> shape);
  /// Writes the archive, streamed (no copy of it in memory); throws IoError.
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    std::uint8_t dtype;
    std::vector<std::uint64_t> shape;
    std::string bytes;  ///< owned copy (add_f32, add_i32, add_i64)
    const char* view;   ///< or the caller's data (add_f32_view)
    std::size_t view_size;
  };
  std::vector<Entry> entries_;
};

class WeightsReader {
 public:
  /// Reads and verifies the archive; throws IoError (unreadable) or CorruptModel (bad content).
  explicit WeightsReader(const std::string& path);
  /// The named array, checking dtype and shape; throws CorruptModel naming the array otherwise.
  std::vector<float> f32(const std::string& name, const std::vector<std::uint64_t>& shape) const;
  /// f32 moved out of the reader (the array is then gone from it): no second copy of a large array.
  std::vector<float> take_f32(const std::string& name, const std::vector<std::uint64_t>& shape);
  std::vector<std::int32_t> i32(const std::string& name, const std::vector<std::uint64_t>& shape) const;
  std::vector<std::int64_t> i64(const std::string& name, const std::vector<std::uint64_t>& shape) const;
  /// Shape of a stored array (throws CorruptModel when absent).
  std::vector<std::uint64_t> shape(const std::string& name) const;

 private:
  struct Entry {
    std::uint8_t dtype;
    std::vector<std::uint64_t> shape;
    std::vector<float> floats;  ///< dtype f32
    std::string bytes;          ///< dtype i32 / i64
  };
  const Entry& get(const std::string& name, std::uint8_t dtype, const std::vector<std::uint64_t>& shape) const;
  std::string path_;
  std::map<std::string, Entry> entries_;
};

}  // namespace driftrec::models
