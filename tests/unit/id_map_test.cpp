// StringTable / IdMap: the index holds views of the stored names, so growth, copies and moves must
// each leave every lookup pointing at names the table owns.
#include "driftrec/data/id_map.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "driftrec/core/error.h"

namespace driftrec::data {
namespace {

std::string id_of(int i) { return (i % 3 == 0 ? "u" : "a-much-longer-id-that-lives-on-the-heap-") + std::to_string(i); }

TEST(StringTable, FindsEveryNameAfterManyAdds) {
  StringTable t;
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(t.add(id_of(i)), i);
  EXPECT_EQ(t.add(id_of(17)), 17);  // known: same index, nothing added
  EXPECT_EQ(t.size(), 5000);
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(t.find(id_of(i)), i);
    EXPECT_EQ(t.name(i), id_of(i));
  }
  EXPECT_EQ(t.find("missing"), -1);
  EXPECT_EQ(t.find(""), -1);
}

TEST(StringTable, CopyOwnsItsIndexAfterTheOriginalIsGone) {
  StringTable copy;
  {
    StringTable original;
    for (int i = 0; i < 100; ++i) original.add(id_of(i));
    copy = original;
    original.add("only-in-the-original");
    EXPECT_EQ(copy.find("only-in-the-original"), -1);
  }  // the original's names are freed here; the copy must not look into them
  for (int i = 0; i < 100; ++i) EXPECT_EQ(copy.find(id_of(i)), i);
  const StringTable constructed(copy);
  copy.add("only-in-the-copy");
  EXPECT_EQ(constructed.find("only-in-the-copy"), -1);
  EXPECT_EQ(constructed.find(id_of(42)), 42);
}

TEST(StringTable, MovedTableKeepsWorkingAndGrows) {
  StringTable a;
  for (int i = 0; i < 100; ++i) a.add(id_of(i));
  StringTable b(std::move(a));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.find(id_of(i)), i);
  StringTable c;
  c = std::move(b);
  EXPECT_EQ(c.add("new"), 100);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(c.find(id_of(i)), i);
  EXPECT_EQ(c.find("new"), 100);
}

TEST(IdMap, ReservesPaddingAndLooksUpWithoutCopies) {
  IdMap m;
  EXPECT_EQ(m.add("x"), 1);
  EXPECT_EQ(m.add("y"), 2);
  EXPECT_EQ(m.add("x"), 1);
  EXPECT_EQ(m.find("y"), 2);
  EXPECT_EQ(m.find("z"), -1);
  EXPECT_EQ(m.name(2), "y");
  EXPECT_THROW(m.name(0), NotFound);
  const IdMap copy = m;
  EXPECT_EQ(copy.find("x"), 1);
  EXPECT_EQ(copy.checksum(), m.checksum());
}

}  // namespace
}  // namespace driftrec::data
