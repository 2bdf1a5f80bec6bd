// Every reader on small fixtures, auto-detection, and the bad-input contract.
#include "driftrec/data/readers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "driftrec/core/error.h"
#include "test_util.h"

using namespace driftrec;
using namespace driftrec::data;
using driftrec::test::TempDir;

namespace {
std::vector<std::string> items_of(const Dataset& ds, const std::string& user) {
  std::vector<std::string> out;
  const auto u = ds.users.find(user);
  for (auto r = ds.log.user_begin(u); r < ds.log.user_end(u); ++r) out.push_back(ds.items.name(ds.log.item[r]));
  return out;
}
std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST(Readers, CsvWithHeaderSortsStablyByUserAndTime) {
  TempDir d;
  const auto p = d.write("log.csv",
                         "user_id,item_id,timestamp,behavior,rating\n"
                         "u1,a,30,view,1\n"
                         "u2,b,10,buy,5\n"
                         "u1,b,10,view,1\n"
                         "u1,c,30,cart,2\n");
  LoadReport rep;
  const auto ds = load_dataset(p, {}, &rep);
  EXPECT_EQ(rep.format, "csv");
  EXPECT_EQ(ds.users.count(), 2);
  EXPECT_EQ(ds.items.count(), 3);
  EXPECT_EQ(items_of(ds, "u1"), (std::vector<std::string>{"b", "a", "c"}));  // tie at 30 keeps file order
  EXPECT_EQ(ds.behaviors.find("cart") >= 0, true);
  EXPECT_FLOAT_EQ(ds.log.value[ds.log.user_begin(ds.users.find("u2"))], 5.0f);
  EXPECT_TRUE(ds.has_clock);
}

TEST(Readers, ColumnMappingAndNoHeader) {
  TempDir d;
  const auto p = d.write("x.tsv", "who\twhat\twhen\nA\tX\t2\nA\tY\t1\n");
  ReadOptions o;
  o.columns.user = "who";
  o.columns.item = "what";
  o.columns.timestamp = "when";
  const auto ds = load_dataset(p, o);
  EXPECT_EQ(items_of(ds, "A"), (std::vector<std::string>{"Y", "X"}));

  const auto q = d.write("y.csv", "A,X\nA,Y\nB,X\n");
  ReadOptions o2;
  o2.format = "csv";
  o2.header = false;
  const auto ds2 = load_dataset(q, o2);
  EXPECT_EQ(ds2.log.size(), 3u);
  EXPECT_FALSE(ds2.has_clock);
}

TEST(Readers, QuotedCsvFieldsAndIsoTimestamps) {
  TempDir d;
  const auto p = d.write("q.csv", "user,item,time\n\"u,1\",\"it \"\"x\"\"\",2024-01-02T00:00:00Z\nv,y,2024-01-01\n");
  const auto ds = load_dataset(p);
  EXPECT_TRUE(ds.users.contains("u,1"));
  EXPECT_TRUE(ds.items.contains("it \"x\""));
  EXPECT_EQ(ds.log.ts[ds.log.user_begin(ds.users.find("u,1"))], 1704153600);
  EXPECT_EQ(parse_timestamp("1700000000.7"), 1700000000);
  EXPECT_THROW(parse_timestamp("yesterday"), InvalidInput);
}

TEST(Readers, MalformedRowNamesFileLineAndField) {
  TempDir d;
  const auto p = d.write("bad.csv", "user,item,timestamp\nu1,a,10\nu1,b,later\nu2,c,5\n");
  try {
    load_dataset(p);
    FAIL() << "expected a ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), p);
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "timestamp");
    EXPECT_NE(std::string(e.what()).find("bad.csv:3: field 'timestamp'"), std::string::npos) << e.what();
  }
}

TEST(Readers, SkipModeCountsAndWritesRejectsKeepingEveryValidRow) {
  TempDir d;
  const auto p = d.write("bad.csv", "user,item,timestamp\nu1,a,10\nu1,b,later\nu2,,5\nu2,c,5\nu3,d\n");
  ReadOptions o;
  o.on_error = OnError::kSkip;
  o.rejects_path = d.file("rejects.tsv");
  LoadReport rep;
  const auto ds = load_dataset(p, o, &rep);
  EXPECT_EQ(rep.rows_read, 5);
  EXPECT_EQ(rep.rows_loaded, 2);
  EXPECT_EQ(rep.rows_rejected, 3);
  EXPECT_EQ(ds.log.size(), 2u);
  const auto rejects = read_all(o.rejects_path);
  EXPECT_NE(rejects.find(":3\t"), std::string::npos);
  EXPECT_NE(rejects.find(":4\t"), std::string::npos);
  EXPECT_NE(rejects.find(":6\t"), std::string::npos);
  EXPECT_NE(rejects.find("u3,d"), std::string::npos);
}

TEST(Readers, TaobaoTruncatedLastRow) {
  TempDir d;
  const auto p =
      d.write("UserBehavior.csv", "1,10,100,pv,1511544070\n1,11,100,buy,1511544080\n2,10,100,cart,1511544090\n2,12,1");
  EXPECT_EQ(detect_format(p), "taobao");
  try {
    load_dataset(p);
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), 4);
  }
  ReadOptions o;
  o.on_error = OnError::kSkip;
  LoadReport rep;
  const auto ds = load_dataset(p, o, &rep);
  EXPECT_EQ(rep.rows_rejected, 1);
  EXPECT_EQ(ds.log.size(), 3u);
  EXPECT_GE(ds.behaviors.find("view"), 0);
  EXPECT_GE(ds.behaviors.find("buy"), 0);
  EXPECT_EQ(ds.item_table.categories.name(ds.item_table.primary_category(ds.items.find("10"))), "100");
}

TEST(Readers, TaobaoRejectsUnknownBehaviour) {
  TempDir d;
  const auto p = d.write("t.csv", "1,10,100,pv,1511544070\n1,11,100,like,1511544080\n");
  ReadOptions o;
  o.format = "taobao";
  try {
    load_dataset(p, o);
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.field(), "behavior");
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(Readers, SequencePerLineAndPairs) {
  TempDir d;
  const auto s = d.write("Beauty.txt", "1 5 6 7\n2 6 8\n");
  EXPECT_EQ(detect_format(s), "sequence");
  const auto ds = load_dataset(s);
  EXPECT_EQ(items_of(ds, "1"), (std::vector<std::string>{"5", "6", "7"}));
  EXPECT_FALSE(ds.has_clock);
  EXPECT_EQ(ds.log.size(), 5u);

  const auto p = d.write("pairs.txt", "1 5\n2 6\n1 6\n1 4\n");
  EXPECT_EQ(detect_format(p), "pairs");
  const auto dp = load_dataset(p);
  EXPECT_EQ(items_of(dp, "1"), (std::vector<std::string>{"5", "6", "4"}));

  const auto bad = d.write("seq_bad.txt", "1 5 6\n2\n");
  ReadOptions o;
  o.format = "sequence";
  EXPECT_THROW(load_dataset(bad, o), ParseError);
}

TEST(Readers, MovieLensUDataWithLatin1Titles) {
  TempDir d;
  d.write("u.data", "1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t10\t5\t881250951\n");
  std::string flags = "|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0";  // Comedy
  d.write("u.item", "10|Caf\xe9 Movie (1995)|01-Jan-1995||http://x" + flags +
                        "\n20|Other (1996)|01-Jan-1996||http://y" +
                        "|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n30|Unrated (1997)|||" + flags + "\n");
  LoadReport rep;
  const auto ds = load_dataset(d.path().string(), {}, &rep);
  EXPECT_EQ(rep.format, "movielens");
  EXPECT_EQ(ds.log.size(), 3u);
  const auto i10 = ds.items.find("10");
  EXPECT_EQ(ds.item_table.categories.name(ds.item_table.primary_category(i10)), "Comedy");
  EXPECT_EQ(ds.item_table.titles[static_cast<std::size_t>(i10)], "Caf\xc3\xa9 Movie (1995)");  // UTF-8
  EXPECT_EQ(rep.item_rows, 3);
  EXPECT_EQ(rep.item_rows_unmatched, 1);
  EXPECT_GE(ds.behaviors.find("rate"), 0);
}

TEST(Readers, MovieLensDatFormat) {
  TempDir d;
  d.write("ratings.dat", "1::10::4::978300760\n1::20::5::978300761\n");
  d.write("movies.dat", "10::Toy Story (1995)::Animation|Children's|Comedy\n20::Jumanji (1995)::Adventure\n");
  const auto ds = load_dataset(d.file("ratings.dat"));
  EXPECT_EQ(ds.log.size(), 2u);
  EXPECT_EQ(ds.item_table.categories.name(ds.item_table.primary_category(ds.items.find("10"))), "Animation");
  EXPECT_FALSE(ds.item_table.token_ids.empty());
}

TEST(Readers, JsonItemAttributes) {
  TempDir d;
  d.write("seq.txt", "u1 4 83 4\nu2 83 165\n");
  d.write("attrs.json",
          R"({"4": [1, 2, 3], "83": ["x"], "165": {"categories": [7], "text": "red lipstick"}, "999": [5]})");
  ReadOptions o;
  o.format = "sequence";
  o.items_path = d.file("attrs.json");
  LoadReport rep;
  const auto ds = load_dataset(d.file("seq.txt"), o, &rep);
  const auto& t = ds.item_table;
  const auto i4 = ds.items.find("4");
  const auto b = t.category_offsets[static_cast<std::size_t>(i4)],
             e = t.category_offsets[static_cast<std::size_t>(i4) + 1];
  ASSERT_EQ(e - b, 3);
  EXPECT_EQ(t.categories.name(t.category_ids[static_cast<std::size_t>(b + 2)]), "3");
  EXPECT_EQ(t.categories.name(t.primary_category(ds.items.find("83"))), "x");
  EXPECT_EQ(t.titles[static_cast<std::size_t>(ds.items.find("165"))], "red lipstick");
  EXPECT_EQ(rep.item_rows, 4);
  EXPECT_EQ(rep.item_rows_unmatched, 1);
  d.write("bad.json", "{\"4\": [1, 2,\n  ]}");
  o.items_path = d.file("bad.json");
  try {
    load_dataset(d.file("seq.txt"), o);
    FAIL() << "expected a ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("bad.json:2"), std::string::npos);
  }
  d.write("bad2.json", R"({"4": [1.5]})");
  o.items_path = d.file("bad2.json");
  EXPECT_THROW(load_dataset(d.file("seq.txt"), o), ParseError);
}

TEST(Readers, RecBoleAtomicFiles) {
  TempDir d;
  d.write("ml.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t100\n1\t11\t3\t90\n");
  d.write("ml.item",
          "item_id:token\ttitle:token_seq\tgenre:token_seq\n10\tToy Story\tAnimation Comedy\n11\tHeat\tAction\n");
  LoadReport rep;
  const auto ds = load_dataset(d.path().string(), {}, &rep);
  EXPECT_EQ(rep.format, "recbole");
  EXPECT_EQ(items_of(ds, "1"), (std::vector<std::string>{"11", "10"}));
  const auto i10 = ds.items.find("10");
  EXPECT_EQ(ds.item_table.categories.name(ds.item_table.primary_category(i10)), "Animation");
  EXPECT_EQ(ds.item_table.titles[static_cast<std::size_t>(i10)], "Toy Story");
}

TEST(Readers, UnknownFormatsAndMissingFilesAreClear) {
  TempDir d;
  EXPECT_THROW(load_dataset(d.file("nope.csv")), NotFound);
  const auto e = d.write("empty.csv", "");
  EXPECT_THROW(load_dataset(e), InvalidInput);
  const auto h = d.write("h.csv", "foo,bar\n1,2\n");
  ReadOptions o;
  o.format = "csv";
  try {
    load_dataset(h, o);
    FAIL();
  } catch (const InvalidInput& err) {
    EXPECT_NE(std::string(err.what()).find("no user column"), std::string::npos);
  }
}

TEST(Readers, Tokenize) {
  EXPECT_EQ(tokenize("Toy Story (1995): A-Z!"), (std::vector<std::string>{"toy", "story", "1995", "a", "z"}));
}

namespace {
std::string load_error(const std::string& path, const ReadOptions& o = {}) {
  return test::thrown_message<Error>([&] { load_dataset(path, o); });
}
}  // namespace

TEST(Readers, IdsMustBePrintableUtf8) {
  TempDir d;
  EXPECT_EQ(load_error(d.write("nul.csv", std::string("user,item\nu1,a\nu\0x,b\n", 21))).find("NUL bytes") !=
                std::string::npos,
            true);
  const auto bad = d.write("latin.csv", "user,item\nu1,a\nu2,caf\xe9\n");
  EXPECT_NE(load_error(bad).find("latin.csv:3: field 'item': is not valid UTF-8"), std::string::npos)
      << load_error(bad);
  const auto ctl = d.write("ctl.txt", "u1 a b\nu2 c \x01z\n");
  EXPECT_NE(load_error(ctl).find("ctl.txt:2: field 'item 2': contains a control character"), std::string::npos)
      << load_error(ctl);
  const auto beh = d.write("beh.csv", "user,item,behavior\nu1,a,vi\xffw\n");
  EXPECT_NE(load_error(beh).find("beh.csv:2: field 'behavior'"), std::string::npos) << load_error(beh);
  // Random bytes are refused as binary even when bad rows are to be skipped.
  std::mt19937 rng(5);
  std::string junk;
  for (int i = 0; i < 65536; ++i) junk += static_cast<char>(rng() % 256);
  ReadOptions skip;
  skip.format = "sequence";
  skip.on_error = OnError::kSkip;
  skip.rejects_path = d.file("rej.tsv");
  EXPECT_NE(load_error(d.write("junk.bin", junk), skip).find("binary file"), std::string::npos);
  // Printable junk without NUL bytes: every row is rejected, none becomes an event.
  std::string text_junk;
  for (int i = 0; i < 20000; ++i) text_junk += static_cast<char>(i % 97 == 0 ? '\n' : 0x80 + rng() % 128);
  EXPECT_NE(load_error(d.write("junk.txt", text_junk), skip).find("no valid events"), std::string::npos);
}

TEST(Readers, DuplicateHeaderColumnsAreAmbiguous) {
  TempDir d;
  const auto p = d.write("dup.csv", "user,item,timestamp,ts_note,timestamp\nu1,a,1,x,2\n");
  EXPECT_NE(load_error(p).find("dup.csv:1: field 'header': column 'timestamp' appears twice"), std::string::npos)
      << load_error(p);
  const auto items = d.write("items.csv", "item,category,item\na,c1,a\n");
  ReadOptions o;
  o.items_path = items;
  EXPECT_NE(load_error(d.write("ok.csv", "user,item\nu1,a\n"), o).find("appears twice"), std::string::npos);
}

TEST(Readers, TimestampsAreRangeCheckedAndDatesValidated) {
  EXPECT_THROW(parse_timestamp("9223372036854775807"), InvalidInput);
  EXPECT_THROW(parse_timestamp("-9223372036854775808"), InvalidInput);
  EXPECT_THROW(parse_timestamp("99999999999999999999"), InvalidInput);
  EXPECT_THROW(parse_timestamp("1e300"), InvalidInput);
  EXPECT_EQ(parse_timestamp("1700000000000"), 1700000000000);  // milliseconds stay accepted
  EXPECT_THROW(parse_timestamp("2024-02-31"), InvalidInput);
  EXPECT_THROW(parse_timestamp("2023-02-29"), InvalidInput);
  EXPECT_THROW(parse_timestamp("2024-04-31T00:00:00Z"), InvalidInput);
  EXPECT_EQ(parse_timestamp("2024-02-29"), 1709164800);
  EXPECT_EQ(parse_timestamp("2024-12-31T23:59:59Z"), 1735689599);
  TempDir d;
  const auto p = d.write("t.csv", "user,item,timestamp\nu1,a,1\nu1,b,9223372036854775807\n");
  EXPECT_NE(load_error(p).find("t.csv:3: field 'timestamp'"), std::string::npos) << load_error(p);
}

TEST(Readers, AutoDetectionDoesNotTurnABadRowIntoAnotherFormat) {
  TempDir d;
  std::string pairs;
  for (int i = 0; i < 40; ++i) pairs += "u" + std::to_string(i % 7) + " i" + std::to_string(i) + "\n";
  pairs += "u1 i2 i3\n";
  const auto p = d.write("pairs.txt", pairs);
  const auto e = load_error(p);
  EXPECT_NE(e.find("pairs.txt:41: has 3 fields"), std::string::npos) << e;
  EXPECT_NE(e.find("--format pairs"), std::string::npos) << e;
  ReadOptions o;
  o.format = "pairs";
  o.on_error = OnError::kSkip;
  o.rejects_path = d.file("rej.tsv");
  LoadReport rep;
  load_dataset(p, o, &rep);
  EXPECT_EQ(rep.rows_loaded, 40);
  EXPECT_EQ(rep.rows_rejected, 1);
}

TEST(Readers, HugeColumnIndexIsAClearError) {
  TempDir d;
  const auto p = d.write("c.csv", "a,b\n1,2\n");
  ReadOptions o;
  o.columns.user = "99999999999";
  EXPECT_THROW(load_dataset(p, o), InvalidInput);
  EXPECT_NE(load_error(p, o).find("column index 99999999999 for 'user' is out of range"), std::string::npos)
      << load_error(p, o);
}

TEST(Readers, ItemTablesHonourSkipAndRefuseEmptyTables) {
  TempDir d;
  const auto events = d.write("e.csv", "user,item\nu1,a\nu1,b\n");
  ReadOptions o;
  o.items_path = d.write("items.csv", "item,category\na,c1\nb,c2,extra\n");
  EXPECT_NE(load_error(events, o).find("items.csv:3: field 'row'"), std::string::npos) << load_error(events, o);
  o.on_error = OnError::kSkip;
  o.rejects_path = d.file("rej.tsv");
  LoadReport rep;
  const auto ds = load_dataset(events, o, &rep);
  EXPECT_EQ(rep.rows_rejected, 1);
  EXPECT_EQ(rep.item_rows, 1);
  EXPECT_TRUE(ds.item_table.has_categories());
  o.on_error = OnError::kFail;
  o.items_path = d.write("empty.csv", "");
  EXPECT_NE(load_error(events, o).find("empty.csv: the item table is empty"), std::string::npos)
      << load_error(events, o);
  o.items_path = d.write("header.csv", "item,category\n");
  EXPECT_NE(load_error(events, o).find("header.csv: the item table has no rows"), std::string::npos)
      << load_error(events, o);
  o.items_path = d.write("empty.json", "{}");
  EXPECT_NE(load_error(events, o).find("has no items"), std::string::npos);
  // JSON item-table errors name the line of the item.
  o.items_path = d.write("attrs.json", "{\n  \"a\": [\"x\", \"y\"],\n  \"b\": {\"categories\": 5}\n}\n");
  EXPECT_NE(load_error(events, o).find("attrs.json:3: field 'b'"), std::string::npos) << load_error(events, o);
}

TEST(Readers, RejectsFileMustNotBeAnInput) {
  TempDir d;
  const auto p = d.write("e.csv", "user,item\nu1,a\nu1\n");
  ReadOptions o;
  o.on_error = OnError::kSkip;
  o.rejects_path = p;
  EXPECT_NE(load_error(p, o).find("--rejects names an input file"), std::string::npos);
  EXPECT_EQ(read_all(p), "user,item\nu1,a\nu1\n");  // untouched
}
