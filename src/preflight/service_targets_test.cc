#include "preflight/service_targets.h"

#include <gtest/gtest.h>

namespace blockyard::preflight {
namespace {

TEST(ServiceTargets, RedisUrls) {
  auto a = redis_address("redis://:secret@cache.internal:6380/2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "cache.internal");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(redis_address("redis://127.0.0.1")->port, 6379);
  EXPECT_EQ(redis_address("rediss://[::1]:7000")->host, "::1");
  EXPECT_FALSE(redis_address("http://x"));
  EXPECT_FALSE(redis_address("redis://host:99999"));
}

TEST(ServiceTargets, VaultDefaultsByScheme) {
  EXPECT_EQ(vault_address("http://vault:8200")->port, 8200);
  EXPECT_EQ(vault_address("https://vault.example")->port, 443);
  EXPECT_EQ(vault_address("http://vault.example")->port, 80);
  EXPECT_FALSE(vault_address("unix:///var/run/vault.sock"));
}

TEST(ServiceTargets, PostgresUrlAndKeywordForms) {
  auto url = postgres_address("postgresql://by:pw@db.internal:5433/blockyard?sslmode=require");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "db.internal");
  EXPECT_EQ(url->port, 5433);
  auto kv = postgres_address("host=10.0.0.5 port=6543 dbname=by user=by");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->host, "10.0.0.5");
  EXPECT_EQ(kv->port, 6543);
  EXPECT_EQ(postgres_address("host=db dbname=x")->port, 5432);
  EXPECT_FALSE(postgres_address("host=/var/run/postgresql dbname=x"));
  EXPECT_FALSE(postgres_address("dbname=x"));
}

TEST(ServiceTargets, EgressTargetsInOrderOnlyForConfiguredServices) {
  Config config;
  EXPECT_TRUE(egress_targets(config, false).empty());
  auto with_metadata = egress_targets(config, true);
  ASSERT_EQ(with_metadata.size(), 1u);
  EXPECT_EQ(with_metadata[0].name, "cloud_metadata");
  EXPECT_TRUE(with_metadata[0].critical);

  config.redis = RedisConfig{"redis://127.0.0.1:6390", "by:"};
  config.vault = VaultConfig{};
  config.vault->address = "https://vault:8200";
  config.database.driver = "postgres";
  config.database.url = "postgres://db/x";
  auto targets = egress_targets(config, false);
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].name, "redis");
  EXPECT_EQ(targets[0].address(), "127.0.0.1:6390");
  EXPECT_FALSE(targets[0].critical);
  EXPECT_EQ(targets[1].name, "vault");
  EXPECT_EQ(targets[2].name, "database");
  EXPECT_EQ(targets[2].address(), "db:5432");

  config.database.driver = "sqlite";
  EXPECT_EQ(egress_targets(config, false).size(), 2u);
}

TEST(TcpProbe, ParsesHostPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:80")->port, 80);
  EXPECT_EQ(parse_host_port("[::1]:443")->host, "::1");
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("::1:80"));
  EXPECT_FALSE(parse_host_port("host:0"));
  EXPECT_FALSE(parse_host_port(":80"));
}

}  // namespace
}  // namespace blockyard::preflight
