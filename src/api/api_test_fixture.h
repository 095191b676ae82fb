// Test fixture for the /api/v1 handlers: a real SQLite store in a temp dir,
// a real TaskRegistry, real bundle unpacking, real builds (a real process
// backend runs the dependency restore in bwrap with the host's R), and
// users with real PATs. The
// handlers are driven through the Router with Request objects, which is
// exactly what the HTTP server does after parsing.
//
// WorkerControl is a recording fake: its real implementation is the proxy's
// worker manager (tested with real bwrap workers in the proxy's tests); here
// we only need to see which calls the API makes and feed it worker lists.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "auth/browser_sessions.h"
#include "auth/pat.h"
#include "auth/signed_token.h"
#include "backend/process/process_backend.h"
#include "bundle/archive.h"
#include "core/crypto.h"
#include "store/store.h"
#include "telemetry/audit_log.h"

namespace blockyard::api::testing {

namespace fs = std::filesystem;
using nlohmann::json;

class RecordingWorkers : public WorkerControl {
 public:
  std::vector<WorkerSummary> workers_for_app(const std::string& app_id) override {
    std::lock_guard lock(mu_);
    std::vector<WorkerSummary> out;
    for (const auto& w : workers) {
      if (w.app_id == app_id) out.push_back(w);
    }
    return out;
  }
  std::shared_ptr<LineLog> worker_log(const std::string& app_id,
                                      const std::string& worker_id) override {
    std::lock_guard lock(mu_);
    auto it = logs.find(app_id + "/" + worker_id);
    return it == logs.end() ? nullptr : it->second;
  }
  void stop_app_workers(const std::string& app_id) override {
    std::lock_guard lock(mu_);
    stopped.push_back(app_id);
  }
  void drain_app_workers(const std::string& app_id) override {
    std::lock_guard lock(mu_);
    drained.push_back(app_id);
  }

  std::vector<std::string> stopped_apps() {
    std::lock_guard lock(mu_);
    return stopped;
  }
  std::vector<std::string> drained_apps() {
    std::lock_guard lock(mu_);
    return drained;
  }

  // Set up by tests before any request runs.
  std::vector<WorkerSummary> workers;
  std::map<std::string, std::shared_ptr<LineLog>> logs;  // key "app_id/worker_id"

 private:
  std::mutex mu_;
  std::vector<std::string> stopped;
  std::vector<std::string> drained;
};

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() {
    std::string pattern = (fs::temp_directory_path() / "by-api-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    config_.storage.bundle_server_path = (dir_ / "bundles").string();
    config_.packages.repositories.clear();  // tests use the server's R library only
    store_ = store::open_sqlite_store(dir_ / "blockyard.db");
    backend::process::ProcessBackendOptions backend_options;
    backend_options.port_range_start = 23700;
    backend_options.port_range_end = 23709;
    backend_options.worker_uid_range_start = 61700;
    backend_options.worker_uid_range_end = 61709;
    backend_options.state_dir = dir_ / "bundles" / ".workers";
    backend_ = backend::process::make_process_backend(backend_options);
    audit_ = std::make_unique<telemetry::AuditLog>(dir_ / "audit.jsonl");
    deployer_ = std::make_unique<deploy::Deployer>(
        deploy::deployer_options(config_), *store_, *backend_, tasks_,
        deploy::DeployerHooks{[this](const std::string& a) { workers_.drain_app_workers(a); },
                              [this](const std::string& a) { workers_.stop_app_workers(a); },
                              {},
                              audit_.get()},
        [this](std::function<void()> job) {
          std::lock_guard lock(threads_mu_);
          threads_.emplace_back(std::move(job));
        });
    context_ =
        std::make_unique<ApiContext>(ApiContext{config_, *store_, tasks_, workers_, *deployer_});
    context_->audit = audit_.get();
    register_api_routes(router_, *context_);
    admin_token_ = add_user("admin-sub", "admin");
    publisher_token_ = add_user("publisher-sub", "publisher");
    viewer_token_ = add_user("viewer-sub", "viewer");
  }

  ~ApiTest() override {
    wait_async();
    deployer_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Creates a user with `role` and returns a PAT for it.
  std::string add_user(const std::string& sub, const std::string& role) {
    store::User user;
    user.sub = sub;
    user.email = sub + "@example.org";
    user.name = "User " + sub;
    user.role = role;
    store_->upsert_user(user);
    return auth::issue_pat(*store_, sub, "test", std::nullopt);
  }

  // Turns on browser sessions (as with [oidc]; no provider is needed to
  // start a session directly) and returns a session cookie header value
  // for `sub` (created as a viewer if new) with `groups`.
  std::string sign_in_as(const std::string& sub, std::vector<std::string> groups = {}) {
    if (!sessions_) {
      config_.server.external_url = "http://by.test:8080";
      auth::BrowserSessionOptions options;
      options.cookie_key = auth::derive_key("api-test-session-secret-0123456789", "cookie");
      sessions_ = std::make_unique<auth::BrowserSessions>(options, *store_, nullptr, nullptr);
      context_->sessions = sessions_.get();
    }
    if (!store_->get_user(sub)) {
      store::User user;
      user.sub = sub;
      user.name = "User " + sub;
      store_->upsert_user(user);
    }
    std::string set_cookie = sessions_->start(sub, groups, auth::TokenSet{"at", "", "", {}});
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  // Every line of the audit log so far.
  std::vector<json> audit_lines() {
    std::ifstream in(dir_ / "audit.jsonl");
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    return lines;
  }

  // Joins every background job started so far.
  void wait_async() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(threads_mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  http::Response call(const std::string& method, const std::string& target,
                      const std::string& token, std::string body = "",
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::Request request;
    for (const auto& [name, value] : headers) request.headers.add(name, value);
    request.method = method;
    request.target = target;
    auto q = target.find('?');
    request.path = http::url_decode(target.substr(0, q));
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!token.empty()) request.headers.set("Authorization", "Bearer " + token);
    request.body = std::move(body);
    request.peer_ip = "127.0.0.1";
    return router_.dispatch(request);
  }

  http::Response upload_file(const std::string& app, const fs::path& archive,
                             const std::string& token) {
    http::Request request;
    request.method = "POST";
    request.target = request.path = "/api/v1/apps/" + app + "/bundles";
    request.headers.set("Authorization", "Bearer " + token);
    request.body_file = archive;
    request.peer_ip = "127.0.0.1";
    return router_.dispatch(request);
  }

  static json body_of(const http::Response& response) { return json::parse(response.body); }

  // Pulls a streamed body to its end (bounded, so a stream that never ends
  // fails the test instead of hanging it).
  static std::string read_stream(const http::Response& response, int max_pulls = 2000) {
    std::string out;
    for (int i = 0; i < max_pulls; ++i) {
      http::Chunk chunk = response.stream();
      out += chunk.data;
      if (chunk.done) return out;
    }
    ADD_FAILURE() << "stream did not finish";
    return out;
  }

  // A gzip'd tar holding `files` (relative path -> content) as given, with
  // no sanitising: tests use it for hostile archives too.
  fs::path make_archive(const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& files) {
    fs::path path = dir_ / (name + ".tar.gz");
    struct archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    EXPECT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const auto& [entry_name, content] : files) {
      struct archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, entry_name.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
      archive_write_header(a, e);
      archive_write_data(a, content.data(), content.size());
      archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
  }

  static std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Creates an app as the publisher and returns its JSON.
  json create_app(const std::string& name, const std::string& token = "") {
    auto response = call("POST", "/api/v1/apps", token.empty() ? publisher_token_ : token,
                         json{{"name", name}}.dump());
    EXPECT_EQ(response.status, 201) << response.body;
    return body_of(response);
  }

  // Uploads a bundle and waits until its activation task has run.
  json deploy(const std::string& app, const fs::path& archive, const std::string& token) {
    auto response = call("POST", "/api/v1/apps/" + app + "/bundles", token, read_file(archive));
    EXPECT_EQ(response.status, 202) << response.body;
    wait_async();
    return body_of(response);
  }

  fs::path dir_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<telemetry::AuditLog> audit_;
  std::unique_ptr<auth::BrowserSessions> sessions_;
  tasks::TaskRegistry tasks_;
  RecordingWorkers workers_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<deploy::Deployer> deployer_;
  std::unique_ptr<ApiContext> context_;
  http::Router router_;
  std::string admin_token_, publisher_token_, viewer_token_;

 private:
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

inline const std::string kAppR = "library(shiny)\nshinyApp(fluidPage('hi'), function(...) {})\n";

}  // namespace blockyard::api::testing
