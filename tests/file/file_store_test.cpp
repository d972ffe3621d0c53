// The file backend's own behaviour beyond the conformance suite: persistence across opens,
// recovery from torn ends and corruption, several database objects sharing one file (as several
// processes do), compaction, and bad files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "dkdata/diagnostics.hpp"
#include "dkdata/dkdata.hpp"
#include "dkdata/parquet.hpp"

namespace dkdata {
namespace {

namespace fs = std::filesystem;

class FileStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ =
        fs::temp_directory_path() / ("dkdata-file-test-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    previous_ = SetWarningHandler([this](std::string_view, std::string_view message) {
      std::lock_guard lock(warnings_mutex_);
      warnings_.emplace_back(message);
    });
  }
  void TearDown() override {
    SetWarningHandler(previous_);
    fs::remove_all(folder_);
  }

  std::string Path(const std::string& name) const { return (folder_ / name).string(); }
  std::unique_ptr<Database> Open(const std::string& name, Object extra = {}) {
    extra.Set("path", Value(Path(name)));
    return CreateDatabase("file", extra);
  }
  static void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<std::string> Warnings() {
    std::lock_guard lock(warnings_mutex_);
    return warnings_;
  }

  fs::path folder_;
  WarningHandler previous_;
  std::mutex warnings_mutex_;
  std::vector<std::string> warnings_;
};

Record Person(const std::string& id, std::int64_t age) {
  Record r{{"name", "p-" + id}, {"age", age}};
  r.set_id(id);
  return r;
}

TEST_F(FileStoreTest, EveryFormatKeepsRecordsAndVersionsAcrossOpens) {
  for (const char* name : {"a.jsonl", "a.jsonl.gz", "a.json", "a.json.zst", "a.csv", "a.tsv.gz",
                           "a.parquet", "a.pq"}) {
    SCOPED_TRACE(name);
    {
      auto db = Open(name);
      db->Create(Person("x", 1));
      db->Create(Person("y", 2));
      db->Update("x", Person("x", 10));
      db->Delete("y");
      db->Close();
    }
    auto db = Open(name);
    EXPECT_EQ(db->Count(), 1u);
    auto x = db->Read("x");
    ASSERT_TRUE(x);
    EXPECT_EQ(x->Get("age")->Get<std::int64_t>() ? *x->Get("age")->Get<std::int64_t>() : -1, 10);
    EXPECT_EQ(x->version(), 2u);
    EXPECT_FALSE(db->Exists("y"));
  }
}

TEST_F(FileStoreTest, WholeFileFormatsAreCompleteAfterCloseAndLeaveNoJournal) {
  auto db = Open("people.json");
  db->Create(Person("a", 1));
  db->Close();
  EXPECT_FALSE(fs::exists(Path("people.json.journal")) &&
               fs::file_size(Path("people.json.journal")) > 0);
  const std::string text = ReadFile(Path("people.json"));
  EXPECT_NE(text.find("\"a\""), std::string::npos) << text;
}

TEST_F(FileStoreTest, AParquetStoreIsAParquetFileOtherToolsRead) {
  {
    auto db = Open("people.parquet", Object{{"compression", Value("zstd")}});
    // A new store is already a valid file of no rows (an empty file is not Parquet).
    EXPECT_TRUE(ReadParquet(Path("people.parquet")).empty());
    db->Create(Person("a", 1));
    db->Create(Person("b", 2));
    db->Close();
  }
  const std::vector<Record> records = ReadParquet(Path("people.parquet"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(*records[0].id(), "a");
  EXPECT_EQ(records[1].Get("age")->AsInt(), 2);
  EXPECT_EQ(records[1].version(), 1u);
  // A Parquet file written elsewhere (here by the library, without ids) opens as a store: ids come
  // from an `id` field, else the row's position.
  std::vector<Record> plain = {Record{{"id", "k1"}, {"x", 1}}, Record{{"x", 2}}};
  WriteParquet(Path("plain.parquet"), plain);
  auto db = Open("plain.parquet");
  EXPECT_EQ(db->Count(), 2u);
  EXPECT_TRUE(db->Exists("k1"));
  EXPECT_TRUE(db->Exists("2"));
}

TEST_F(FileStoreTest, AParquetPathWithAWholeFileCompressionIsRefused) {
  try {
    Open("x.parquet.gz");
    FAIL() << "x.parquet.gz opened";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("compression"), std::string::npos) << error.what();
  }
}

TEST_F(FileStoreTest, JsonlWritesAppendInsteadOfRewriting) {
  auto db = Open("log.jsonl");
  db->Create(Person("a", 1));
  const auto inode_before = fs::status(Path("log.jsonl")).permissions();
  const std::string before = ReadFile(Path("log.jsonl"));
  db->Create(Person("b", 2));
  const std::string after = ReadFile(Path("log.jsonl"));
  EXPECT_EQ(after.substr(0, before.size()), before) << "the first line must stay as it was";
  EXPECT_GT(after.size(), before.size());
  (void)inode_before;
}

TEST_F(FileStoreTest, AnEmptyFileIsAnEmptyStore) {
  for (const char* name : {"e.jsonl", "e.json", "e.csv", "e.parquet"}) {
    WriteFile(Path(name), "");
    EXPECT_EQ(Open(name)->Count(), 0u) << name;
  }
}

TEST_F(FileStoreTest, ATornLastLineIsDroppedAndReportedAndCutBeforeTheNextWrite) {
  {
    auto db = Open("t.jsonl");
    db->Create(Person("a", 1));
    db->Close();
  }
  std::ofstream(Path("t.jsonl"), std::ios::app) << R"({"id":"b","fields":{"age":{"na)";
  auto db = Open("t.jsonl");
  EXPECT_EQ(db->Count(), 1u);
  ASSERT_FALSE(Warnings().empty());
  EXPECT_NE(Warnings()[0].find("torn"), std::string::npos) << Warnings()[0];
  db->Create(Person("c", 3));
  db->Close();
  auto again = Open("t.jsonl");
  EXPECT_EQ(again->Count(), 2u);
  EXPECT_TRUE(again->Exists("c"));
}

// A batch longer than the scan's buffer (4 MiB) is counted in the file rather than held: whole,
// it counts; torn by a crash, it is dropped and cut before the next write, as a short one is.
TEST_F(FileStoreTest, ABatchLongerThanTheScanBufferCountsOnlyWhole) {
  const std::string pad(1000, 'p');
  std::vector<Record> big;
  for (int i = 0; i < 6000; ++i) big.push_back(Record{{"age", i}, {"pad", pad}});
  {
    auto db = Open("big.jsonl");
    db->Create(Person("a", 1));
    db->CreateBatch(big);
  }
  ASSERT_GT(fs::file_size(Path("big.jsonl")), std::uintmax_t{5} << 20);
  EXPECT_EQ(Open("big.jsonl")->Count(Where("age", Op::kGte, 0)), 6001u);
  fs::resize_file(Path("big.jsonl"), fs::file_size(Path("big.jsonl")) - 10);
  auto db = Open("big.jsonl");
  EXPECT_EQ(db->Count(Where("age", Op::kGte, 0)), 1u) << "a torn batch must not count at all";
  ASSERT_FALSE(Warnings().empty());
  EXPECT_NE(Warnings().back().find("torn"), std::string::npos) << Warnings().back();
  db->Create(Person("c", 3));
  db->Close();
  EXPECT_EQ(Open("big.jsonl")->Count(), 2u);
}

TEST_F(FileStoreTest, AnIncompleteBatchAtTheEndCountsAsNotWritten) {
  {
    auto db = Open("b.jsonl");
    db->Create(Person("a", 1));
    db->Close();
  }
  std::ofstream(Path("b.jsonl"), std::ios::app)
      << "{\"_batch\":3}\n"
      << R"({"id":"b","fields":{"age":{"name":"age","value":2,"type":"integer"}}})"
      << "\n";
  auto db = Open("b.jsonl");
  EXPECT_EQ(db->Count(), 1u) << "a batch with 1 of its 3 lines must not count";
  EXPECT_FALSE(db->Exists("b"));
}

TEST_F(FileStoreTest, CorruptionInTheMiddleNamesTheLineAndSalvageSkipsIt) {
  WriteFile(Path("c.jsonl"),
            "{\"_id\":\"a\",\"x\":1}\n{\"_id\": garbage\n{\"_id\":\"b\",\"x\":2}\n");
  try {
    // A JSONL store reads its file at the first call (other formats at open).
    Open("c.jsonl")->Count();
    FAIL() << "a garbled middle line must fail the first read";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("c.jsonl"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("salvage"), std::string::npos) << error.what();
  }
  auto db = Open("c.jsonl", Object{{"salvage", Value(true)}});
  EXPECT_EQ(db->Count(), 2u);
  ASSERT_FALSE(Warnings().empty());
  EXPECT_NE(Warnings().back().find("line 2"), std::string::npos);
}

// Several threads read a JSONL store's lines (option threads); what a scan finds must not depend
// on how many: later lines replace earlier ones, batches, deletes, lines without ids (numbered by
// line), and a garbled line far into the file (several windows of lines in).
TEST_F(FileStoreTest, ThreadsReadAStoreExactlyAsOneThreadDoes) {
  const std::string pad(300, 'x');
  std::string text;
  std::uint64_t line = 0, garbled_line = 0;
  auto add = [&](const std::string& l) {
    text += l + "\n";
    ++line;
  };
  auto put = [&](int i, int age) {
    add(R"({"id":"r)" + std::to_string(i) + R"(","fields":{"age":{"name":"age","value":)" +
        std::to_string(age) + R"(,"type":"integer"},"pad":{"name":"pad","value":")" + pad +
        R"(","type":"string"}},"_version":1})");
  };
  for (int i = 0; i < 12000; ++i) {
    if (i % 1000 == 0) {
      add(R"({"_batch":5})");
      for (int k = 0; k < 5; ++k) put(100000 + i + k, k);
    }
    put(i, i % 100);
    if (i % 777 == 0 && i > 0) add(R"({"_deleted":"r)" + std::to_string(i - 1) + R"("})");
    if (i % 501 == 0) add(R"({"age":7,"pad":")" + pad + R"("})");
    if (i % 997 == 0 && i > 0) put(i / 2, 1000);  // replaces an earlier line
    if (i == 9000) {
      add(R"({"id": garbage)");
      garbled_line = line;
    }
  }
  WriteFile(Path("t.jsonl"), text);
  ASSERT_GT(text.size(), std::size_t{4} << 20) << "the scan must take several windows of lines";

  struct Seen {
    std::string error;
    std::size_t count = 0;
    std::vector<std::string> ids;
    std::vector<std::string> warnings;
  };
  auto scan = [&](int threads) {
    Seen seen;
    try {
      Open("t.jsonl", Object{{"threads", Value(threads)}})->Count();
    } catch (const Error& error) {
      seen.error = error.what();
    }
    warnings_.clear();
    auto db = Open("t.jsonl", Object{{"threads", Value(threads)}, {"salvage", Value(true)}});
    seen.count = db->Count(Where("age", Op::kGte, 50));
    for (const Record& r : db->Search(Query().Filter("age", Op::kLt, 3)))
      seen.ids.push_back(*r.id());
    seen.warnings = Warnings();
    return seen;
  };
  const Seen one = scan(1);
  EXPECT_NE(one.error.find("line " + std::to_string(garbled_line)), std::string::npos) << one.error;
  EXPECT_GT(one.count, 5000u);
  EXPECT_GT(one.ids.size(), 300u);
  for (int threads : {2, 4}) {
    const Seen many = scan(threads);
    EXPECT_EQ(many.error, one.error) << threads << " threads";
    EXPECT_EQ(many.count, one.count) << threads << " threads";
    EXPECT_EQ(many.ids, one.ids) << threads << " threads";
    EXPECT_EQ(many.warnings, one.warnings) << threads << " threads";
  }
}

// A CSV store over 4 MiB is loaded by several threads (option threads), in parts; the image must
// hold what one thread loads, in the same order: rows with ids, rows without (numbered by their
// line, or named by an "id" column), a row repeating an earlier id.
TEST_F(FileStoreTest, ThreadsLoadACsvStoreExactlyAsOneThreadDoes) {
  std::string text = "__id__,age:integer,id,pad\n";
  const std::string pad(200, 'p');
  for (int i = 0; i < 30000; ++i) {
    if (i % 101 == 0) {
      text += "," + std::to_string(i % 90) + ",," + pad + "\n";  // no id: its line
    } else if (i % 103 == 0) {
      text += "," + std::to_string(i % 90) + ",named" + std::to_string(i) + "," + pad + "\n";
    } else if (i % 997 == 0) {
      text += "r5," + std::to_string(i) + ",," + pad + "\n";  // replaces r5
    } else {
      text += "r" + std::to_string(i) + "," + std::to_string(i % 90) + ",," + pad + "\n";
    }
  }
  ASSERT_GT(text.size(), std::size_t{5} << 20);
  WriteFile(Path("t.csv"), text);
  // The store order is the file's, a replaced record keeping its first place.
  std::vector<std::string> expected_ids;
  for (int i = 0; i < 30000; ++i) {
    if (i % 101 == 0) {
      expected_ids.push_back(std::to_string(i + 2));
    } else if (i % 103 == 0) {
      expected_ids.push_back("named" + std::to_string(i));
    } else if (i % 997 != 0) {
      expected_ids.push_back("r" + std::to_string(i));
    }
  }
  auto load = [&](int threads) {
    std::vector<std::string> ids, seen;
    auto db = Open("t.csv", Object{{"threads", Value(threads)}});
    for (const Record& r : db->Search(Query())) {
      ids.push_back(*r.id());
      seen.push_back(*r.id() + "=" + RecordToJson(r));
    }
    EXPECT_EQ(ids, expected_ids) << threads << " threads";
    EXPECT_EQ(*db->Read("r5")->Get("age"), Value(29910));
    return seen;
  };
  const std::vector<std::string> one = load(1);
  EXPECT_EQ(load(3), one);
}

TEST_F(FileStoreTest, BinaryGarbageIsAClearErrorNotACrash) {
  std::string garbage(4096, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
  for (const char* name : {"g.jsonl", "g.json", "g.csv", "g.jsonl.gz", "g.json.zst", "g.parquet"}) {
    WriteFile(Path(name), garbage + "\n" + garbage);
    EXPECT_THROW(Open(name)->Count(), Error) << name;
  }
}

TEST_F(FileStoreTest, AHugeLineIsReadWhole) {
  const std::string big(20 << 20, 'x');
  {
    auto db = Open("h.jsonl");
    Record blob{{"blob", big}};
    blob.set_id("big");
    db->Create(blob);
    db->Create(Person("small", 1));
  }
  auto db = Open("h.jsonl");
  auto r = db->Read("big");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Get("blob")->Get<std::string>()->size(), big.size());
  EXPECT_EQ(db->Count(Where("age", Op::kEq, 1)), 1u);
}

TEST_F(FileStoreTest, TwoObjectsOnOneFileSeeEachOthersWrites) {
  for (const char* name : {"s.jsonl", "s.csv"}) {
    SCOPED_TRACE(name);
    auto first = Open(name);
    auto second = Open(name);
    first->Create(Person("a", 1));
    EXPECT_TRUE(second->Exists("a"));
    second->Update("a", Person("a", 2));
    EXPECT_EQ(first->Read("a")->version(), 2u);
    try {
      first->Update("a", Person("a", 3), 1);
      ADD_FAILURE() << "a stale expected_version must conflict";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kConflict);
    }
    first->Delete("a");
    EXPECT_EQ(second->Count(), 0u);
  }
}

TEST_F(FileStoreTest, CompactionBoundsTheLogAndOthersReloadAfterIt) {
  auto db = Open("k.jsonl");
  auto other = Open("k.jsonl");
  const std::string padding(2000, 'p');
  for (int i = 0; i < 2000; ++i) {
    db->Upsert("same", Record{{"n", i}, {"pad", padding}});
  }
  EXPECT_LT(fs::file_size(Path("k.jsonl")), std::uintmax_t{2} << 20)
      << "2000 rewrites of one 2 kB record must have been compacted";
  auto r = other->Read("same");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->Get("n")->Get<std::int64_t>(), 1999);
  EXPECT_EQ(r->version(), 2000u);
}

TEST_F(FileStoreTest, PlainJsonlFromAnotherToolIsReadWithIdsFromItsLines) {
  WriteFile(Path("plain.jsonl"), "{\"id\":\"u1\",\"age\":30}\n{\"age\":40}\n");
  auto db = Open("plain.jsonl");
  EXPECT_EQ(db->Count(), 2u);
  EXPECT_TRUE(db->Exists("u1"));
  EXPECT_TRUE(db->Exists("2")) << "a line without an id gets its line number";
}

// A CSV store loads rows with an `__id__` straight into its memory image, without Records, and the
// others through a Record: both must give exactly what the file says, in the file's order.
TEST_F(FileStoreTest, ACsvStoreLoadsEveryTypeMetadataAndIdAsWritten) {
  WriteFile(Path("all.csv"),
            "__id__,__version__,name:string,age:integer,score:float,ok:boolean,at:datetime,"
            "blob:binary,emb:vector,tags:json,plain,id:string,__metadata__\n"
            "r0,3,Ada,36,1.5,true,2024-05-01T08:00:00Z,aGVsbG8=,\"[1,0.5]\",\"[\"\"a\"\",1]\",7,,"
            "\"{\"\"record\"\":{\"\"k\"\":1},\"\"fields\"\":{\"\"name\"\":{\"\"m\"\":2}}}\"\n"
            "r1,,Bob,null,,false,,,,\"{\"\"x\"\":{}}\",text,,\n"
            ",,NoId,1,,,,,,,,x9,\n"
            ",,Nobody,2,,,,,,,,,\n"
            "r1,4,Bob2,,,,,,,,2.5,,\n");
  auto db = Open("all.csv");
  EXPECT_EQ(db->Count(), 4u);

  auto r0 = db->Read("r0");
  ASSERT_TRUE(r0);
  EXPECT_EQ(r0->version(), 3u);
  EXPECT_EQ(r0->metadata(), (Object{{"k", Value(1)}}));
  ASSERT_NE(r0->FindField("name"), nullptr);
  EXPECT_EQ(r0->FindField("name")->metadata, (Object{{"m", Value(2)}}));
  EXPECT_EQ(*r0->Get("name"), Value("Ada"));
  EXPECT_EQ(*r0->Get("age"), Value(36));
  EXPECT_EQ(*r0->Get("score"), Value(1.5));
  EXPECT_EQ(*r0->Get("ok"), Value(true));
  EXPECT_EQ(*r0->Get("at"), Value(*Timestamp::Parse("2024-05-01T08:00:00Z")));
  EXPECT_EQ(*r0->Get("blob"), Value(Bytes{"hello"}));
  EXPECT_EQ(*r0->Get("emb"), Value(Vector{1.0f, 0.5f}));
  EXPECT_EQ(*r0->Get("tags"), Value(List{"a", 1}));
  EXPECT_EQ(*r0->Get("plain"), Value(7));
  EXPECT_EQ(r0->FindField("plain")->type, FieldType::kInteger);
  EXPECT_EQ(r0->FindField("at")->type, FieldType::kDatetime);
  EXPECT_EQ(r0->size(), 9u) << "absent cells make no field";

  // The later line of r1 replaces the earlier one, in r1's place.
  auto r1 = db->Read("r1");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->version(), 4u);
  EXPECT_EQ(*r1->Get("name"), Value("Bob2"));
  EXPECT_EQ(*r1->Get("plain"), Value(2.5));
  EXPECT_FALSE(r1->Has("age"));
  EXPECT_TRUE(r1->metadata().empty());

  auto by_field = db->Read("x9");  // no __id__: the "id" field
  ASSERT_TRUE(by_field);
  EXPECT_EQ(by_field->version(), 1u);
  EXPECT_EQ(*by_field->Get("name"), Value("NoId"));
  EXPECT_TRUE(db->Exists("5")) << "no id at all: the line number";

  std::vector<std::string> order;
  for (const Record& r : db->Search(Query())) order.push_back(*r.id());
  EXPECT_EQ(order, (std::vector<std::string>{"r0", "r1", "x9", "5"}));
  EXPECT_EQ(db->Count(Where("name", Op::kEq, "Bob")), 0u) << "r1's first line is replaced";
}

TEST_F(FileStoreTest, ReferenceJsonLayoutIsRead) {
  WriteFile(
      Path("ref.json"),
      R"({"r1": {"id": "r1", "fields": {"age": {"name": "age", "value": 5, "type": "integer"}}, "metadata": {}}})");
  auto db = Open("ref.json");
  auto r = db->Read("r1");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->Get("age")->Get<std::int64_t>(), 5);
}

TEST_F(FileStoreTest, UnknownOptionsAndFormatsAreNamed) {
  try {
    Open("x.jsonl", Object{{"synk", Value("always")}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("synk"), std::string::npos);
  }
  EXPECT_THROW(Open("x.unknown"), Error);
  EXPECT_THROW(Open("x.jsonl", Object{{"sync", Value("sometimes")}}), Error);
}

// The first call reads the file and answers the query in one pass; what it answers must be the
// live records only: later lines replace earlier ones, deletes remove them, batches count whole.
TEST_F(FileStoreTest, TheFirstQueryOfAnOpenSeesOnlyLiveRecords) {
  const auto put = [](const std::string& id, int age, int version) {
    Record r{{"age", age}, {"name", "n" + id}};
    r.set_id(id);
    r.set_version(static_cast<std::uint64_t>(version));
    return RecordToJson(r) + "\n";
  };
  WriteFile(Path("live.jsonl"), put("a", 60, 1) + put("b", 70, 1) + put("a", 10, 2) +
                                    "{\"_deleted\":\"b\"}\n" + "{\"_batch\":2}\n" +
                                    put("c", 55, 1) + put("d", 80, 1) + put("e", 90, 1) +
                                    "{\"age\":65,\"_id\":\"flat\"}\n");
  const Query adults = Query().Filter("age", Op::kGte, 50);
  EXPECT_EQ(Open("live.jsonl")->Count(adults.where()), 4u);  // c, d, e, flat
  std::vector<std::string> ids;
  for (const Record& r : Open("live.jsonl")->Search(adults)) ids.push_back(*r.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"c", "d", "e", "flat"}));
  // Whole records come back, with their versions, and projections hold what they select.
  auto db = Open("live.jsonl");
  const std::vector<Record> found = db->Search(Query().Filter("age", Op::kEq, 10));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(*found[0].Get("name"), Value("na"));
  EXPECT_EQ(found[0].version(), 2u);
  const std::vector<Record> projected =
      Open("live.jsonl")->Search(Query().Filter("age", Op::kGt, 85).Select({"name"}));
  ASSERT_EQ(projected.size(), 1u);
  EXPECT_EQ(projected[0].fields().size(), 1u);
  EXPECT_EQ(*projected[0].Get("name"), Value("ne"));
  // A limit without a sort still sees only live records, in file order.
  const std::vector<Record> first_two = Open("live.jsonl")->Search(Query(adults).Limit(2));
  ASSERT_EQ(first_two.size(), 2u);
  EXPECT_EQ(*first_two[1].id(), "d");
}

// Lines another object appended are read by the next query together with it (the catch-up scan
// feeds the query), and count once.
TEST_F(FileStoreTest, AQueryAfterAnotherWriterCountsItsLinesOnce) {
  auto reader = Open("shared.jsonl");
  auto writer = Open("shared.jsonl");
  writer->Create(Record{{"age", 60}});
  EXPECT_EQ(reader->Count(Query().Filter("age", Op::kGte, 50).where()), 1u);
  const std::string id = writer->Create(Record{{"age", 70}});
  writer->Create(Record{{"age", 20}});
  writer->Update(id, Record{{"age", 30}});
  EXPECT_EQ(reader->Count(Query().Filter("age", Op::kGte, 50).where()), 1u);
  EXPECT_EQ(reader->Search(Query().Filter("age", Op::kLt, 50)).size(), 2u);
}

}  // namespace
}  // namespace dkdata
