// SQLite-specific behaviour, plus the conformance suite instantiated for the
// SQLite store.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "core/config.h"
#include "store/sqlite_db.h"
#include "store/sqlite_migrations.h"
#include "store/store.h"
#include "store/store_conformance.h"
#include "store/test_temp_dir.h"

namespace blockyard::store {
namespace {

using blockyard::testing::TempDir;
using testing::StoreConformanceTest;
using testing::StoreHarness;
using testing::StoreImpl;

const std::string kNow = "2026-03-01T12:00:00Z";

class SqliteHarness : public StoreHarness {
 public:
  std::unique_ptr<Store> open() override { return open_sqlite_store(dir_.path() / "by.db"); }

 private:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformanceTest,
    ::testing::Values(StoreImpl{
        "sqlite", [] { return std::unique_ptr<StoreHarness>(std::make_unique<SqliteHarness>()); }}),
    [](const auto& info) { return info.param.name; });

std::string pragma(const std::filesystem::path& db_path, const std::string& name) {
  SqliteDb db(db_path.string());
  Statement query(db, "PRAGMA " + name);
  return query.step() ? query.text(0) : "";
}

TEST(SqliteStore, CreatesMissingParentDirectoriesPrivately) {
  TempDir dir;
  auto path = dir.path() / "a" / "b" / "blockyard.db";
  auto store = open_sqlite_store(path);
  store->ping();
  EXPECT_TRUE(std::filesystem::exists(path));
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "a" / "b").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(OpenStore, OpensTheSqliteDriverAtItsPath) {
  TempDir dir;
  DatabaseConfig config;
  config.driver = "sqlite";
  config.path = (dir.path() / "data" / "by.db").string();
  auto store = open_store(config);
  store->ping();
  EXPECT_TRUE(std::filesystem::exists(config.path));
}

TEST(OpenStore, RefusesADriverItCannotOpenNamingTheKey) {
  TempDir dir;
  DatabaseConfig config;
  config.driver = "postgres";
  config.url = "postgres://localhost/blockyard";
  config.path = (dir.path() / "by.db").string();
  try {
    open_store(config);
    FAIL() << "postgres was opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("database.driver = \"postgres\""), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(config.path)) << "no SQLite file behind the operator's back";
  EXPECT_THROW(require_supported_driver(config), std::runtime_error);
  config.driver = "sqlite";
  EXPECT_NO_THROW(require_supported_driver(config));
}

TEST(SqliteStore, UsesWalJournal) {
  TempDir dir;
  auto path = dir.path() / "by.db";
  auto store = open_sqlite_store(path);
  EXPECT_EQ(pragma(path, "journal_mode"), "wal");
}

TEST(SqliteStore, MigratesToLatestVersionOnceAndReopensCleanly) {
  TempDir dir;
  auto path = dir.path() / "by.db";
  open_sqlite_store(path).reset();
  open_sqlite_store(path).reset();  // a second open must not re-apply anything
  SqliteDb db(path.string());
  SchemaVersion version = read_sqlite_schema_version(db);
  EXPECT_EQ(version.version, latest_sqlite_schema_version());
  EXPECT_FALSE(version.dirty);
  Statement rows(db, "SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.int32(0), 1);
}

TEST(SqliteStore, RefusesSchemaFromTheFuture) {
  TempDir dir;
  auto path = dir.path() / "by.db";
  open_sqlite_store(path).reset();
  {
    SqliteDb db(path.string());
    db.exec("UPDATE schema_migrations SET version = version + 100");
  }
  EXPECT_THROW(open_sqlite_store(path), std::runtime_error);
}

TEST(SqliteStore, RefusesDirtySchema) {
  TempDir dir;
  auto path = dir.path() / "by.db";
  open_sqlite_store(path).reset();
  {
    SqliteDb db(path.string());
    db.exec("UPDATE schema_migrations SET dirty = 1");
  }
  EXPECT_THROW(open_sqlite_store(path), std::runtime_error);
}

TEST(SqliteStore, EnforcesForeignKeysOnItsConnection) {
  TempDir dir;
  auto store = open_sqlite_store(dir.path() / "by.db");
  Bundle orphan;
  orphan.id = "b1";
  orphan.app_id = "no-such-app";
  orphan.uploaded_at = kNow;
  EXPECT_THROW(store->create_bundle(orphan), std::runtime_error);
  EXPECT_FALSE(store->get_bundle("b1"));
}

TEST(SqliteStore, InMemoryDatabaseWorks) {
  auto store = open_sqlite_store(":memory:");
  App app = store->create_app("sales", "alice", kNow);
  EXPECT_EQ(store->get_app(app.id)->name, "sales");
}

TEST(SqliteStore, UnusablePathThrows) {
  TempDir dir;
  auto blocker = dir.path() / "file";
  std::ofstream(blocker) << "not a directory";
  EXPECT_THROW(open_sqlite_store(blocker / "by.db"), std::runtime_error);
}

}  // namespace
}  // namespace blockyard::store
