#include "server/server.h"

#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "api/api.h"
#include "auth/pat.h"
#include "backend/process/process_backend.h"
#include "core/crypto.h"
#include "deploy/deployer.h"
#include "http/connection.h"
#include "http/rate_limiter.h"
#include "http/server.h"
#include "preflight/preflight.h"
#include "preflight/preflight_routes.h"
#include "proxy/proxy_handler.h"
#include "proxy/worker_manager.h"
#include "server/health_routes.h"
#include "server/identity.h"
#include "server/page_routes.h"
#include "server/pid1.h"
#include "server/update_routes.h"
#include "state/open_state.h"
#include "tasks/task_registry.h"

namespace blockyard::server {

namespace asio = boost::asio;

void apply_default_seccomp_profile(Config& config) {
  if (!config.process) return;
  std::string& profile = config.process->seccomp_profile;
  if (profile == "none") {
    spdlog::warn(
        "[process] seccomp_profile = \"none\": workers run without the inner seccomp filter");
    profile.clear();
    return;
  }
  if (!profile.empty()) return;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  for (const std::filesystem::path& candidate :
       {std::filesystem::path("/etc/blockyard/seccomp.bpf"),
        ec ? std::filesystem::path() : exe.parent_path().parent_path() / "seccomp.bpf"}) {
    if (!candidate.empty() && std::filesystem::is_regular_file(candidate, ec)) {
      profile = candidate.string();
      spdlog::info("inner seccomp profile: {}", profile);
      return;
    }
  }
  spdlog::warn(
      "no inner seccomp profile found (set [process] seccomp_profile): workers run "
      "without it");
}

namespace {

// Owner-only data directories, so workers cannot read other apps' bundles or
// the database. When workers run as their own UIDs with the shared worker GID
// (backend::process::runs_workers_as_own_uids), bwrap — already that UID —
// binds the bundle by its path wherever it cannot be staged privately (no
// CAP_SYS_ADMIN, as in a container), so the GID gets search permission (0710:
// traverse, never list) on the directories leading to bundles; in every other
// case nothing but the server needs in. Inside a sandbox these directories are
// hidden anyway; the database and token files stay 0600.
void restrict_data_permissions(const Config& config, bool worker_group_search) {
  namespace fs = std::filesystem;
  const gid_t worker_gid = config.process.value_or(ProcessConfig{}).worker_gid;
  auto restrict_dir = [&](const fs::path& dir) {
    std::error_code ec;
    auto perms = fs::perms::owner_all;
    if (worker_group_search) {
      if (::chown(dir.c_str(), static_cast<uid_t>(-1), worker_gid) == 0)
        perms |= fs::perms::group_exec;
      else
        spdlog::warn("cannot give {} to the worker group: {}", dir.string(), std::strerror(errno));
    }
    fs::permissions(dir, perms, ec);
    if (ec) spdlog::warn("cannot restrict {}: {}", dir.string(), ec.message());
  };
  restrict_dir(config.storage.bundle_server_path);
  if (config.database.driver == "sqlite") {
    // The database's directory is the server's data directory: restricted
    // when it is ours (never chmod a directory someone else owns).
    std::error_code ec;
    fs::path data_dir = fs::absolute(config.database.path, ec).parent_path();
    struct stat st {};
    if (::stat(data_dir.c_str(), &st) == 0 && st.st_uid == ::geteuid()) restrict_dir(data_dir);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::path file = config.database.path + suffix;
      if (fs::exists(file, ec)) {
        fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, ec);
      }
    }
  }
}

// Directories holding the server's own data; workers never see inside them.
std::vector<std::filesystem::path> server_data_dirs(const Config& config) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  auto add = [&dirs](const fs::path& path) {
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(path, ec), ec);
    if (!ec && std::find(dirs.begin(), dirs.end(), abs) == dirs.end()) dirs.push_back(abs);
  };
  add(config.storage.bundle_server_path);
  if (config.database.driver == "sqlite") add(fs::path(config.database.path).parent_path());
  add(fs::path(config.server.admin_token_file).parent_path());
  return dirs;
}

backend::process::ProcessBackendOptions process_backend_options(const Config& config) {
  const ProcessConfig& pc = config.process.value_or(ProcessConfig{});
  backend::process::ProcessBackendOptions options;
  options.bwrap_path = pc.bwrap_path;
  options.r_path = pc.r_path;
  options.port_range_start = pc.port_range_start;
  options.port_range_end = pc.port_range_end;
  options.bundle_worker_path = config.storage.bundle_worker_path;
  options.state_dir = std::filesystem::path(config.storage.bundle_server_path) / ".workers";
  options.worker_env = config.server.worker_env;
  options.worker_uid_range_start = pc.worker_uid_range_start;
  options.worker_uid_range_end = pc.worker_uid_range_end;
  options.worker_gid = pc.worker_gid;
  options.seccomp_profile = pc.seccomp_profile;
  options.worker_proc = backend::process::proc_mount_for(pc.worker_procfs);
  options.default_memory_limit = config.server.default_memory_limit;
  options.default_cpu_limit = config.server.default_cpu_limit;
  options.hidden_paths = server_data_dirs(config);
  return options;
}

std::unique_ptr<backend::Backend> make_backend(
    const backend::process::ProcessBackendOptions& options) {
  try {
    auto backend = backend::process::make_process_backend(options);
    // Before anything spawns: what a crashed predecessor left behind goes.
    backend->cleanup_orphans();
    return backend;
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("process backend: ") + e.what());
  }
}

// Without an identity provider, a local admin and its token file are the way in.
void prepare_local_admin(const Config& config, store::Store& store) {
  if (config.oidc) return;
  std::filesystem::path token_file = config.server.admin_token_file;
  bool minted = auth::ensure_local_admin(store, token_file);
  spdlog::info("{} admin token at {} (use: by login --server http://{} --token \"$(cat {})\")",
               minted ? "wrote new" : "using existing", token_file.string(), config.server.bind,
               token_file.string());
}

// Enabled apps with a ready bundle that ask for pre-warmed workers.
std::vector<proxy::PrewarmTarget> prewarm_targets(const Config& config, store::Store& store) {
  std::vector<proxy::PrewarmTarget> targets;
  store::AppListQuery query;
  query.per_page = 100;
  for (query.page = 1;; ++query.page) {
    auto result = store.list_apps(query);
    for (auto& app : result.apps) {
      if (app.pre_warmed_sessions <= 0 || !app.enabled || !app.active_bundle) continue;
      auto path =
          std::filesystem::path(config.storage.bundle_server_path) / app.id / *app.active_bundle;
      std::string bundle_id = *app.active_bundle;
      targets.push_back({std::move(app), bundle_id, path.string()});
    }
    if (query.page * query.per_page >= result.total) break;
  }
  return targets;
}

}  // namespace

int run_server(const Config& config) {
  // A configuration asking for a database or shared state this version does
  // not have is refused before anything is written.
  store::require_supported_driver(config.database);
  state::DataPlaneState state = state::open_state(config);
  // The audit log and the identity provider next: an unwritable audit path
  // or an unreachable provider stops start-up before anything is written.
  Identity identity = open_identity(config);
  auto store = store::open_store(config.database);
  if (int n = store->fail_interrupted_bundles(); n > 0) {
    spdlog::warn("marked {} bundle(s) interrupted by a previous stop as failed", n);
  }
  prepare_local_admin(config, *store);
  asio::thread_pool auth_pool(1);  // background refreshes of sign-in tokens
  finish_identity(identity, config, *store, [&auth_pool](std::function<void()> job) {
    asio::post(auth_pool, std::move(job));
  });
  // One set of backend options decides, for the data directories, the
  // preflight sandboxes and the backend alike, whether workers run as their
  // own UIDs.
  auto backend_options = process_backend_options(config);
  backend_options.port_allocator = state.ports;
  backend_options.uid_allocator = state.uids;
  restrict_data_permissions(config, backend::process::runs_workers_as_own_uids(backend_options));

  // Preflight before the backend exists: an error stops start-up with the
  // checks' own advice; its sandboxes run the way workers will.
  auto preflight_options = preflight::options_from_environment(current_environment());
  preflight_options.per_worker_uids = backend_options.worker_identities;
  preflight::SystemChecks system_checks(config, preflight_options, !config.server.skip_preflight);
  if (config.server.skip_preflight)
    spdlog::warn("preflight: backend checks skipped (skip_preflight)");
  auto preflight_report = system_checks.run_startup();
  preflight::log_report(preflight_report);
  if (preflight::blocks_startup(preflight_report)) {
    throw std::runtime_error(preflight::startup_failure_message(preflight_report));
  }

  auto backend = make_backend(backend_options);
  proxy::WorkerManager workers(*backend, *state.sessions, *state.workers, config,
                               config.proxy.max_concurrent_starts,
                               // This process in the shared state: new for every start.
                               state.host + "-" + base62_encode(random_bytes(6)));
  workers.set_prewarm_source([&config, &store] { return prewarm_targets(config, *store); });
  tasks::TaskRegistry tasks;
  asio::thread_pool build_pool(static_cast<std::size_t>(config.packages.max_concurrent_builds));
  deploy::Deployer deployer(
      deploy::deployer_options(config), *store, *backend, tasks,
      deploy::DeployerHooks{[&workers](const std::string& app) { workers.drain_app_workers(app); },
                            [&workers](const std::string& app) { workers.stop_app_workers(app); },
                            [&workers](const std::string& app, const std::string& bundle) {
                              for (const auto& w : workers.workers_for_app(app))
                                if (w.bundle_id == bundle && w.status != "ended") return true;
                              return false;
                            },
                            identity.audit.get()},
      [&build_pool](std::function<void()> job) { asio::post(build_pool, std::move(job)); });
  deployer.start_housekeeping();

  http::Router router;
  std::atomic<bool> draining{false};
  register_health_routes(router, *store, *backend, draining);
  register_page_routes(router);
  api::ApiContext api_context{config, *store, tasks, workers, deployer};
  api_context.sessions = identity.sessions.get();
  api_context.sign_in = identity.sign_in.get();
  api_context.cli_login = identity.cli_login.get();
  api_context.bootstrap = identity.bootstrap.get();
  api_context.audit = identity.audit.get();
  api::register_api_routes(router, api_context);
  preflight::register_system_check_routes(router, *store, system_checks);
  const bool pid_one = is_pid_one();
  if (pid_one)
    spdlog::info("running as PID 1: reaping orphans; updates come from the container runtime");
  register_update_routes(router, *store, pid_one);

  // One I/O thread (concurrency hint 1): a proxied request costs a few
  // microseconds of CPU, and handing handlers between I/O threads cost more
  // (a futex and an epoll wake-up per hand-off; bench/README.md). Blocking
  // work has its own pools: API handlers, store lookups, spawns, probes.
  asio::io_context io(1);
  http::ServerOptions options;
  options.bind = config.server.bind;
  options.upload_body_limit = static_cast<std::uint64_t>(config.storage.max_bundle_size);
  options.upload_dir = std::filesystem::path(config.storage.bundle_server_path) / ".uploads";
  options.version = BLOCKYARD_VERSION;
  options.hsts = config.server.external_url.starts_with("https://");
  options.handler_threads = 4;
  http::RateLimitSettings limits;
  limits.auth_per_minute = config.proxy.auth_rate_limit_per_minute;
  limits.api_per_minute = config.proxy.api_rate_limit_per_minute;
  limits.app_per_minute = config.proxy.app_rate_limit_per_minute;
  limits.trusted_proxies = config.server.trusted_proxies;
  options.trusted_proxies = config.server.trusted_proxies;
  options.rate_limits = std::make_shared<http::RateLimitPolicy>(limits);
  auto data_plane =
      std::make_shared<proxy::ProxyHandler>(io, config, *store, workers, identity.sessions.get());
  if (identity.sessions) identity.sessions->set_listener(&workers);
  http::HttpServer server(io, options, router, data_plane);
  server.listen();
  spdlog::info("blockyard {} listening on http://{}", BLOCKYARD_VERSION, server.local_address());

  // Sign-ins past cookie_max_age end, with their app sessions, within a minute.
  asio::steady_timer session_sweep(io);
  std::function<void()> sweep_sessions = [&] {
    session_sweep.expires_after(std::chrono::minutes(1));
    session_sweep.async_wait([&](const boost::system::error_code& ec) {
      if (ec || draining) return;
      asio::post(auth_pool, [&] {
        try {
          identity.sessions->sweep_expired();
        } catch (const std::exception& e) {
          spdlog::warn("sweeping expired sign-in sessions failed: {}", e.what());
        }
      });
      sweep_sessions();
    });
  };
  if (identity.sessions) sweep_sessions();
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded by
  // server.shutdown_timeout), stop every worker, exit 0. SIGUSR1 (drain): the
  // same, but first wait for users' open sessions to end (bounded by
  // update.drain_idle_wait), so a rolling replacement loses no session.
  std::thread shutdown_thread;
  std::once_flag shutdown_once;
  auto begin_shutdown = [&](int signo, bool drain_sessions) {
    std::call_once(shutdown_once, [&] {
      spdlog::info("received signal {}, {}", signo,
                   drain_sessions ? "draining: waiting for open sessions to end" : "shutting down");
      draining = true;
      server.stop_accepting();
      deployer.cancel_builds();  // their bundles fail; the active ones keep serving
      // Blocking steps run off the I/O threads so in-flight requests can finish.
      shutdown_thread = std::thread([&, drain_sessions] {
        using Clock = std::chrono::steady_clock;
        if (drain_sessions) {
          auto wait =
              config.update ? config.update->drain_idle_wait : UpdateConfig{}.drain_idle_wait;
          auto deadline = Clock::now() + wait;
          while (workers.open_connections() > 0 && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
          }
        }
        auto deadline = Clock::now() + config.server.shutdown_timeout;
        while (server.in_flight() > 0 && Clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        workers.shutdown();
        io.stop();
      });
    });
  };
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) begin_shutdown(signo, false);
  });
  asio::signal_set drain_signal(io, SIGUSR1);
  drain_signal.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) begin_shutdown(signo, true);
  });
  // As PID 1 every orphan in the container becomes our child: reap them.
  asio::signal_set child_signal(io);
  std::function<void()> watch_children = [&] {
    child_signal.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reap_orphans();
      watch_children();
    });
  };
  if (pid_one) {
    child_signal.add(SIGCHLD);
    watch_children();
  }

  io.run();
  if (shutdown_thread.joinable()) shutdown_thread.join();
  build_pool.join();
  auth_pool.join();
  server.join_handlers();
  spdlog::info("shutdown complete");
  return 0;
}

}  // namespace blockyard::server
