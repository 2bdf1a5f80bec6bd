// Word-vector and item-vector readers.
#include "driftrec/data/vectors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "driftrec/core/error.h"
#include "driftrec/data/transforms.h"
#include "test_util.h"

using namespace driftrec;

namespace {

// Writes a .npy (version 1.0) of rows x cols values of type T ('<f4' or '<f8').
template <typename T>
void write_npy(const std::string& path, const std::vector<T>& v, int rows, int cols) {
  std::string header = std::string("{'descr': '") + (sizeof(T) == 4 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " + std::to_string(cols) +
                       "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t n = static_cast<std::uint16_t>(header.size());
  f.put(static_cast<char>(n & 0xff));
  f.put(static_cast<char>(n >> 8));
  f << header;
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

}  // namespace

TEST(WordVectors, Word2VecWithHeaderAndGloveWithout) {
  test::TempDir dir;
  const auto w2v = data::read_word_vectors(dir.write("w2v.txt", "2 3\nred 1 2 3\nblue 0.5 -1 2e-1\n"));
  ASSERT_EQ(w2v.size(), 2u);
  EXPECT_EQ(w2v.dim, 3);
  EXPECT_EQ(w2v.ids[1], "blue");
  EXPECT_FLOAT_EQ(w2v.row(1)[2], 0.2f);
  const auto glove = data::read_word_vectors(dir.write("glove.txt", "the 0.1 0.2\nof -0.3 0.4\n"));
  EXPECT_EQ(glove.size(), 2u);
  EXPECT_EQ(glove.dim, 2);
}

TEST(WordVectors, BadLinesNameFileLineAndField) {
  test::TempDir dir;
  auto expect = [&](const std::string& text, const std::string& what) {
    const auto path = dir.write("bad.txt", text);
    const auto refused = test::thrown_message<ParseError>([&] { data::read_word_vectors(path); });
    EXPECT_NE(refused.find(path + ":" + what), std::string::npos) << text << ": " << refused;
  };
  expect("a 1 2\nb 1 x\n", "2: field 'value'");
  expect("a 1 2\nb 1 2 3\n", "2: field 'vector': has 3 values, earlier lines have 2");
  expect("a 1 2\na 3 4\n", "2: field 'id': 'a' appears twice");
  EXPECT_THROW(data::read_word_vectors(dir.file("missing.txt")), IoError);
}

TEST(ItemVectors, TextWithHeaderAndCommas) {
  test::TempDir dir;
  const auto t = data::read_item_vectors(dir.write("items.csv", "item_id,v1,v2\ni1,1,2\ni2,3,4\n"));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.ids[0], "i1");
  EXPECT_FLOAT_EQ(t.row(1)[0], 3.0f);
}

TEST(ItemVectors, NpyFloat32AndFloat64WithIds) {
  test::TempDir dir;
  write_npy<float>(dir.file("a.npy"), {1, 2, 3, 4, 5, 6}, 3, 2);
  dir.write("a.ids", "x\ny\nz\n");
  const auto a = data::read_item_vectors(dir.file("a.npy"));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.dim, 2);
  EXPECT_EQ(a.ids[2], "z");
  EXPECT_FLOAT_EQ(a.row(2)[1], 6.0f);
  write_npy<double>(dir.file("b.npy"), {0.5, 1.5}, 1, 2);
  dir.write("b.ids", "only\n");
  EXPECT_FLOAT_EQ(data::read_item_vectors(dir.file("b.npy")).row(0)[1], 1.5f);
  // Ids that do not match the rows, a missing ids file, not a .npy.
  dir.write("a.ids", "x\ny\n");
  const auto mismatch = test::thrown_message<ParseError>([&] { data::read_item_vectors(dir.file("a.npy")); });
  EXPECT_NE(mismatch.find("2 ids for 3 rows"), std::string::npos) << mismatch;
  write_npy<float>(dir.file("c.npy"), {1, 2}, 1, 2);
  EXPECT_THROW(data::read_item_vectors(dir.file("c.npy")), IoError);
  dir.write("d.npy", "not numpy");
  EXPECT_THROW(data::read_item_vectors(dir.file("d.npy")), ParseError);
}

TEST(ColdItems, TemporalSplitTargetsOnlyItemsNewSinceTheValidationCutoff) {
  data::DatasetBuilder b;
  // old: seen in training (t < 10); fresh1/fresh2 appear first at or after t = 10.
  for (int u = 0; u < 3; ++u) {
    const std::string user = "u" + std::to_string(u);
    b.add(user, "old", 1);
    b.add(user, "old2", 2);
    b.add(user, "old", 12);
    b.add(user, "fresh1", 13);
    b.add(user, "old2", 21);
    b.add(user, "fresh2", 22);
  }
  const auto ds = b.finish();
  data::SplitOptions so;
  so.new_items_only = true;
  const auto s = data::temporal_split(ds, 10, 20, so);
  ASSERT_EQ(s.test.size(), 3u);
  EXPECT_EQ(s.valid[0].targets, std::vector<std::int32_t>{ds.items.find("fresh1")});
  EXPECT_EQ(s.test[0].targets, (std::vector<std::int32_t>{ds.items.find("fresh2")}));
  const auto fresh = data::items_new_since(ds, 10);
  EXPECT_FALSE(fresh[0]);
  EXPECT_FALSE(fresh[static_cast<std::size_t>(ds.items.find("old"))]);
  EXPECT_TRUE(fresh[static_cast<std::size_t>(ds.items.find("fresh1"))]);
  EXPECT_TRUE(fresh[static_cast<std::size_t>(ds.items.find("fresh2"))]);
  data::PrepareOptions po;
  po.new_items = true;
  EXPECT_THROW(data::make_split(ds, po), InvalidInput);  // needs the temporal split
}

TEST(ItemVectors, FortranOrderIsRefused) {
  test::TempDir dir;
  const std::string path = dir.file("f.npy");
  std::string header = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  f.put(static_cast<char>(header.size()));
  f.put(0);
  f << header;
  const float v[2] = {1, 2};
  f.write(reinterpret_cast<const char*>(v), sizeof v);
  f.close();
  dir.write("f.ids", "a\n");
  const auto refused = test::thrown_message<ParseError>([&] { data::read_item_vectors(path); });
  EXPECT_NE(refused.find("Fortran-order"), std::string::npos) << refused;
}
