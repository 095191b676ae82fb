#include "proxy/app_resolver.h"

#include <gtest/gtest.h>

#include "store/sqlite_db.h"
#include "store/test_temp_dir.h"

namespace blockyard::proxy {
namespace {

using namespace std::chrono_literals;

const std::string kNow = "2026-03-01T12:00:00Z";

class AppResolverTest : public ::testing::Test {
 protected:
  AppResolverTest()
      : db_path_(dir_.path() / "by.db"),
        store_(store::open_sqlite_store(db_path_)),
        resolver_(*store_, 1s, [this] { return now_; }) {}

  // A write the store's own counter cannot see (another process, or the
  // sqlite3 CLI, on the same database file).
  void write_behind_the_stores_back(const std::string& sql) {
    store::SqliteDb other(db_path_.string());
    other.exec(sql);
  }

  blockyard::testing::TempDir dir_;
  std::filesystem::path db_path_;
  std::unique_ptr<store::Store> store_;
  AppResolver::Clock::time_point now_{};
  AppResolver resolver_;
};

TEST_F(AppResolverTest, ResolvesByNameByIdAndUnknown) {
  store::App app = store_->create_app("sales", "alice", kNow);
  auto by_name = resolver_.resolve("sales");
  ASSERT_TRUE(by_name->app);
  EXPECT_EQ(by_name->app->id, app.id);
  EXPECT_FALSE(by_name->alias);
  auto by_id = resolver_.resolve(app.id);
  ASSERT_TRUE(by_id->app);
  EXPECT_EQ(by_id->app->name, "sales");
  EXPECT_FALSE(resolver_.resolve("nobody")->app);
}

TEST_F(AppResolverTest, FormerNameResolvesThroughItsAlias) {
  store::App app = store_->create_app("old-name", "alice", kNow);
  resolver_.resolve("old-name");  // cached under the old name first
  store_->rename_app(app.id, "new-name", store::now_rfc3339());
  auto route = resolver_.resolve("old-name");
  ASSERT_TRUE(route->app);
  EXPECT_EQ(route->app->name, "new-name");
  ASSERT_TRUE(route->alias);
  EXPECT_EQ(route->alias->phase, "alias");
}

TEST_F(AppResolverTest, WritesThroughTheStoreAreSeenAtOnce) {
  store::App app = store_->create_app("sales", "alice", kNow);
  EXPECT_TRUE(resolver_.resolve("sales")->app->enabled);
  store::AppUpdate disable;
  disable.enabled = false;
  store_->update_app(app.id, disable, kNow);
  EXPECT_FALSE(resolver_.resolve("sales")->app->enabled);  // same instant: no clock help
  store_->delete_app(app.id);
  EXPECT_FALSE(resolver_.resolve("sales")->app);
  store_->create_app("sales", "bob", kNow);
  auto route = resolver_.resolve("sales");  // a cached "unknown" does not stick either
  ASSERT_TRUE(route->app);
  EXPECT_EQ(route->app->owner, "bob");
}

TEST_F(AppResolverTest, AnswersFromCacheUntilMaxAgeForWritesItCannotSee) {
  store_->create_app("sales", "alice", kNow);
  ASSERT_TRUE(resolver_.resolve("sales")->app->enabled);
  write_behind_the_stores_back("UPDATE apps SET enabled = 0 WHERE name = 'sales'");
  now_ += 900ms;
  EXPECT_TRUE(resolver_.resolve("sales")->app->enabled) << "expected the cached answer";
  now_ += 200ms;
  EXPECT_FALSE(resolver_.resolve("sales")->app->enabled) << "the entry outlived max_age";
}

TEST_F(AppResolverTest, CachedAnswersOnlyWhatResolveReadAndIsStillFresh) {
  store::App app = store_->create_app("sales", "alice", kNow);
  EXPECT_FALSE(resolver_.cached("sales")) << "nothing read yet: the caller must resolve";
  resolver_.resolve("sales");
  auto hit = resolver_.cached("sales");
  ASSERT_TRUE(hit && hit->app);
  EXPECT_EQ(hit->app->id, app.id);
  store::AppUpdate disable;
  disable.enabled = false;
  store_->update_app(app.id, disable, kNow);
  EXPECT_FALSE(resolver_.cached("sales")) << "a write makes the entry stale";
  resolver_.resolve("sales");
  EXPECT_TRUE(resolver_.cached("sales"));
  now_ += 1100ms;
  EXPECT_FALSE(resolver_.cached("sales")) << "older than max_age";
}

}  // namespace
}  // namespace blockyard::proxy
