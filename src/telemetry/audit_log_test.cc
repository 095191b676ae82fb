#include "telemetry/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "store/test_temp_dir.h"

namespace blockyard::telemetry {
namespace {

using blockyard::testing::TempDir;
using nlohmann::json;
using ::testing::HasSubstr;

std::vector<json> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<json> lines;
  std::string line;
  while (std::getline(in, line)) {
    auto parsed = json::parse(line, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "every line is valid JSON on its own: " << line;
    lines.push_back(parsed);
  }
  return lines;
}

TEST(AuditLog, WritesOneLineWithEveryField) {
  TempDir dir;
  AuditLog log(dir.path() / "audit.jsonl");
  log.emit({"access.grant", "alice", "app-1", json{{"principal", "bob"}, {"role", "viewer"}},
            "203.0.113.7", "success"});
  auto lines = read_lines(dir.path() / "audit.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  const json& line = lines[0];
  EXPECT_EQ(line["action"], "access.grant");
  EXPECT_EQ(line["actor"], "alice");
  EXPECT_EQ(line["target"], "app-1");
  EXPECT_EQ(line["detail"]["principal"], "bob");
  EXPECT_EQ(line["source_ip"], "203.0.113.7");
  EXPECT_EQ(line["outcome"], "success");
  EXPECT_TRUE(std::regex_match(line["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")))
      << line["ts"];
}

TEST(AuditLog, OmitsEmptyOptionalFieldsAndNamesAnonymousActors) {
  std::string text = AuditLog::render({"user.login", "", "", json::object(), "", "failure"},
                                      "2026-01-01T00:00:00.000000000Z");
  json line = json::parse(text);
  EXPECT_EQ(line["actor"], "anonymous");
  EXPECT_FALSE(line.contains("target"));
  EXPECT_FALSE(line.contains("detail"));
  EXPECT_FALSE(line.contains("source_ip"));
  EXPECT_EQ(line["outcome"], "failure");
  EXPECT_THAT(text, ::testing::StartsWith(R"({"ts":"2026-01-01T00:00:00.000000000Z","action")"));
}

TEST(AuditLog, FileIsPrivateAndAppendedTo) {
  TempDir dir;
  auto path = dir.path() / "audit.jsonl";
  {
    AuditLog log(path);
    log.emit({"user.login", "a", "", {}, "", "success"});
  }
  AuditLog again(path);
  again.emit({"user.logout", "a", "", {}, "", "success"});
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u) << "reopening appends, never truncates";
  EXPECT_EQ(lines[1]["action"], "user.logout");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AuditLog, DisabledLogDoesNothing) {
  AuditLog log;
  EXPECT_FALSE(log.enabled());
  log.emit({"user.login", "a", "", {}, "", "success"});
  EXPECT_EQ(log.failed_writes(), 0u);
}

TEST(AuditLog, UnopenablePathIsAnErrorNamingIt) {
  TempDir dir;
  auto path = dir.path() / "missing-dir" / "audit.jsonl";
  try {
    AuditLog log(path);
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string()));
  }
}

TEST(AuditLog, ConcurrentEmittersNeverInterleaveLines) {
  TempDir dir;
  AuditLog log(dir.path() / "audit.jsonl");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        log.emit({"token.create", "user-" + std::to_string(t), std::to_string(i),
                  json{{"name", std::string(200, 'x')}}, "", "success"});
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(read_lines(dir.path() / "audit.jsonl").size(), 200u);
}

TEST(AuditLog, FollowsThePathAfterRotation) {
  TempDir dir;
  auto path = dir.path() / "audit.jsonl";
  AuditLog log(path);
  log.emit({"user.login", "a", "", {}, "", "success"});
  std::filesystem::rename(path, dir.path() / "audit.jsonl.1");
  log.emit({"user.logout", "a", "", {}, "", "success"});
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["action"], "user.logout");
  EXPECT_EQ(read_lines(dir.path() / "audit.jsonl.1").size(), 1u);
}

}  // namespace
}  // namespace blockyard::telemetry
