// redis_auth against a real redis-server, worker_egress with the real
// sandboxed `blockyard probe`, cloud_metadata without sending any traffic.
// Loopback targets only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "preflight/checks.h"
#include "preflight/test_support.h"

namespace blockyard::preflight {
namespace {

using testing::context_for;
using ::testing::HasSubstr;

bool have_redis() {
  return std::filesystem::exists("/usr/bin/redis-server");
}

Config with_redis(const std::string& url) {
  Config config;
  config.redis = RedisConfig{url, "blockyard:"};
  return config;
}

TEST(RedisAuth, NotConfiguredIsOk) {
  auto r = check_redis_auth(context_for(Config{}));
  EXPECT_EQ(r.severity, "ok");
  EXPECT_EQ(r.category, "redis");
}

TEST(RedisAuth, RedisWithoutPasswordIsAnError) {
  if (!have_redis()) GTEST_SKIP() << "redis-server not installed";
  testing::RedisServer redis;
  auto r = check_redis_auth(context_for(with_redis(redis.url())));
  EXPECT_EQ(r.severity, "error") << r.message;
  EXPECT_THAT(r.message, HasSubstr("accepts unauthenticated connections"));
  EXPECT_THAT(r.message, HasSubstr("requirepass"));
}

TEST(RedisAuth, RedisWithRequirepassIsOk) {
  if (!have_redis()) GTEST_SKIP() << "redis-server not installed";
  testing::RedisServer redis("s3cret-pass");
  auto r = check_redis_auth(context_for(with_redis(redis.url("s3cret-pass"))));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("requires authentication"));
}

TEST(RedisAuth, UnreachableRedisIsInfo) {
  auto r = check_redis_auth(
      context_for(with_redis("redis://127.0.0.1:" + std::to_string(testing::closed_port()))));
  EXPECT_EQ(r.severity, "info");
  EXPECT_THAT(r.message, HasSubstr("not reachable"));
}

TEST(RedisAuth, TlsRedisIsNotProbed) {
  auto r = check_redis_auth(context_for(with_redis("REDISS://127.0.0.1:1")));
  EXPECT_EQ(r.severity, "info");
  EXPECT_THAT(r.message, HasSubstr("TLS"));
}

TEST(RedisAuth, NonRedisServiceGivesUnexpectedReply) {
  testing::LoopbackListener silent;  // accepts (backlog) but never answers
  auto r = check_redis_auth(
      context_for(with_redis("redis://127.0.0.1:" + std::to_string(silent.port()))));
  EXPECT_EQ(r.severity, "info");
  EXPECT_THAT(r.message, HasSubstr("unexpected reply"));
}

class WorkerEgress : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::blockyard_binary())) {
      GTEST_SKIP() << "build the blockyard binary first: " << testing::blockyard_binary();
    }
    options_.probe_executable = testing::blockyard_binary();
  }
  PreflightOptions options_;
};

TEST_F(WorkerEgress, ReachableServiceFromInsideTheSandboxIsNamed) {
  testing::LoopbackListener service;
  std::string address = "127.0.0.1:" + std::to_string(service.port());
  auto r = check_worker_egress(context_for(with_redis("redis://" + address), options_));
  EXPECT_EQ(r.severity, "warning") << r.message;
  EXPECT_THAT(r.message, HasSubstr("workers can reach internal services: redis (" + address + ")"));
  EXPECT_THAT(r.message, HasSubstr("REJECT"));
}

TEST_F(WorkerEgress, ProbeRunsAsTheWorkerUidWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  options_.per_worker_uids = true;
  testing::LoopbackListener service;
  std::string address = "127.0.0.1:" + std::to_string(service.port());
  auto r = check_worker_egress(context_for(with_redis("redis://" + address), options_));
  EXPECT_EQ(r.severity, "warning") << r.message;
  EXPECT_THAT(r.message, HasSubstr("redis (" + address + ")"));
}

TEST_F(WorkerEgress, ClosedServicePortIsOk) {
  std::string address = "127.0.0.1:" + std::to_string(testing::closed_port());
  auto r = check_worker_egress(context_for(with_redis("redis://" + address), options_));
  EXPECT_EQ(r.severity, "ok") << r.message;
  EXPECT_THAT(r.message, HasSubstr("blocked: redis"));
}

TEST_F(WorkerEgress, SeveralTargetsReachableAreAllListed) {
  testing::LoopbackListener redis, vault;
  Config config = with_redis("redis://127.0.0.1:" + std::to_string(redis.port()));
  config.vault = VaultConfig{};
  config.vault->address = "http://127.0.0.1:" + std::to_string(vault.port());
  auto r = check_worker_egress(context_for(config, options_));
  EXPECT_EQ(r.severity, "warning") << r.message;
  EXPECT_THAT(r.message, HasSubstr("redis (127.0.0.1:" + std::to_string(redis.port())));
  EXPECT_THAT(r.message, HasSubstr("vault (127.0.0.1:" + std::to_string(vault.port())));
}

TEST(WorkerEgressSeam, ReachableMetadataIsAnError) {
  // The seam stands in for the sandboxed probe: no packet leaves the host.
  PreflightOptions options;
  options.allow_metadata_probe = true;
  std::vector<std::string> probed;
  options.egress_probe = [&](const EgressTarget& t) {
    probed.push_back(t.name);
    return t.name == "cloud_metadata";
  };
  auto r = check_worker_egress(context_for(with_redis("redis://127.0.0.1:6399"), options));
  EXPECT_EQ(r.severity, "error");
  EXPECT_THAT(r.message, HasSubstr("cloud_metadata (169.254.169.254:80)"));
  EXPECT_EQ(probed, (std::vector<std::string>{"cloud_metadata", "redis"}));
}

TEST(WorkerEgressSeam, MetadataIsNotProbedUnlessAllowed) {
  PreflightOptions options;
  std::vector<std::string> probed;
  options.egress_probe = [&](const EgressTarget& t) {
    probed.push_back(t.name);
    return false;
  };
  auto r = check_worker_egress(context_for(Config{}, options));
  EXPECT_TRUE(probed.empty());
  EXPECT_EQ(r.severity, "ok");
  EXPECT_THAT(r.message, HasSubstr("169.254.169.254 not probed"));
}

TEST(CloudMetadata, NotProbedByDefault) {
  auto r = check_cloud_metadata(context_for(Config{}));
  EXPECT_THAT(r.severity, ::testing::AnyOf("info", "warning"));
  EXPECT_THAT(r.message, HasSubstr("not probed"));
}

TEST(CloudMetadata, SkipFlagIsInfo) {
  Config config;
  config.process = ProcessConfig{};
  config.process->skip_metadata_check = true;
  auto r = check_cloud_metadata(context_for(config));
  EXPECT_EQ(r.severity, "info");
  EXPECT_THAT(r.message, HasSubstr("skip_metadata_check"));
}

}  // namespace
}  // namespace blockyard::preflight
