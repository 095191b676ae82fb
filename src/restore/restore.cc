#include "restore/restore.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bundle/dependency_source.h"
#include "core/crypto.h"
#include "store/timestamp.h"

namespace blockyard::restore {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kErrorTailLines = 20;

void write_file(const fs::path& file, std::string_view content) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("restore: cannot write " + file.string());
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A directory removed (with its contents) when the restore ends.
class ScratchDir {
 public:
  explicit ScratchDir(fs::path path) : path_(std::move(path)) {
    fs::create_directories(path_);
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A temporary library (links to the store entries of one install's
// dependencies), removed when the install ends.
class TemporaryLibrary {
 public:
  TemporaryLibrary(const PackageStore& store, std::string name,
                   const std::vector<StoreEntry>& entries)
      : store_(store), name_(std::move(name)) {
    store_.assemble_library(name_, entries);
  }
  TemporaryLibrary(const TemporaryLibrary&) = delete;
  TemporaryLibrary& operator=(const TemporaryLibrary&) = delete;
  ~TemporaryLibrary() { store_.remove_library(name_); }
  const std::string& name() const { return name_; }

 private:
  const PackageStore& store_;
  std::string name_;
};

class Restorer {
 public:
  Restorer(const RestoreRequest& request, backend::Backend& backend, const PackageStore& store,
           std::shared_ptr<LineLog> log)
      : request_(request),
        backend_(backend),
        store_(store),
        log_(std::move(log)),
        deadline_(Clock::now() + request.timeout) {}

  RestoreResult run() {
    RestoreResult result;
    const std::string r_version_hint = request_.manifest.r_version;
    std::vector<ResolvedRepository> repos;
    try {
      repos = effective_repositories(request_.manifest, request_.repositories, r_version_hint);
    } catch (const std::exception& e) {
      throw RestoreError(e.what());
    }
    ScratchDir input(store_.new_staging_dir());
    ScratchDir resolved(store_.new_staging_dir());
    write_file(input.path() / "requirements.dcf", requirements_dcf(request_.manifest));
    write_file(input.path() / "repositories.dcf", repositories_dcf(repos));
    write_file(input.path() / "resolve.R", resolve_script());

    const auto requested = bundle::requested_packages(request_.manifest);
    log_->append("Resolving " + std::to_string(requested.size()) + " requested package(s)" +
                (repos.empty() ? "" : " against " + repository_list(repos)));
    run_job("resolve", input.path(), resolved.path(),
            {request_.rscript.string(), "/in/resolve.R", "/in", "/out", kStoreMount}, "");

    std::set<std::string> ids;
    for (const auto& r : repos) ids.insert(r.id);
    try {
      result.plan = parse_restore_plan(read_file(resolved.path() / "platform.dcf"),
                                       read_file(resolved.path() / "plan.dcf"), ids);
    } catch (const std::exception& e) {
      throw std::runtime_error(e.what());
    }
    write_file(resolved.path() / "install.R", install_script());

    std::map<std::string, const PlannedPackage*> by_name;
    for (const auto& p : result.plan.packages) by_name[p.package] = &p;
    for (const auto& p : result.plan.packages) {
      if (p.from_host()) {
        ++result.from_host;
        continue;
      }
      if (store_.contains(p.entry)) {
        store_.touch(p.entry);
        ++result.reused;
        continue;
      }
      if (install(p, by_name, resolved.path()))
        ++result.installed;
      else
        ++result.reused;  // a concurrent build installed it while we waited
    }
    const auto entries = plan_entries(result.plan);
    log_->append("Packages: " + std::to_string(result.from_host) + " from the server's R library, " +
                std::to_string(result.reused) + " reused from the package store, " +
                std::to_string(result.installed) + " installed");
    if (!entries.empty()) {
      store_.assemble_library(request_.build_id, entries);
      result.library = request_.build_id;
    }
    return result;
  }

 private:
  static std::string repository_list(const std::vector<ResolvedRepository>& repos) {
    std::string out;
    for (const auto& r : repos)
      out += (out.empty() ? "" : ", ") + r.repository.name + " (" + r.repository.url + ")";
    return out;
  }

  void check_cancelled() const {
    if (request_.cancel && request_.cancel->load())
      throw RestoreError("dependency restore cancelled: the server is shutting down");
  }

  milliseconds remaining() const {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    if (left <= milliseconds(0))
      throw RestoreError("dependency restore timed out after " +
                         std::to_string(request_.timeout.count() / 1000) + " s");
    return left;
  }

  // Runs one sandboxed job; throws RestoreError when it does not succeed.
  void run_job(const std::string& step, const fs::path& in, const fs::path& out,
               std::vector<std::string> command, const std::string& r_libs) {
    check_cancelled();
    backend::BuildSpec spec;
    spec.build_id = request_.build_id + "-" + step;
    if (spec.build_id.size() > 100) spec.build_id.resize(100);
    spec.app_id = request_.app_id;
    spec.command = std::move(command);
    spec.bundle_path = in;
    spec.bundle_mount = "/in";
    spec.output_path = out;
    spec.output_mount = "/out";
    spec.mounts.push_back({store_.root(), kStoreMount, true});
    if (!r_libs.empty()) spec.env["R_LIBS"] = r_libs;
    spec.timeout = remaining();
    spec.cancel = request_.cancel;
    spec.log = log_;
    spec.memory_limit = request_.memory_limit;
    const std::size_t before = log_->read_from(0).next;
    const backend::BuildResult result = backend_.build(spec);
    if (result.success()) return;
    check_cancelled();
    if (result.timed_out)
      throw RestoreError("dependency restore timed out after " +
                         std::to_string(request_.timeout.count() / 1000) + " s (during " + step +
                         ")");
    if (!result.error.empty()) throw std::runtime_error("restore " + step + ": " + result.error);
    throw RestoreError(job_failure(step, before, result.exit_code));
  }

  // The reason a job gave ("ERROR: ..." lines), or its last lines.
  std::string job_failure(const std::string& step, std::size_t from, int exit_code) const {
    const auto lines = log_->read_from(from).lines;
    std::vector<std::string> errors;
    for (const auto& line : lines)
      if (line.starts_with("ERROR: ")) errors.push_back(line.substr(7));
    if (step == "resolve" && !errors.empty()) {
      std::string out;
      for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e;
      return out;
    }
    std::string head = errors.empty()
                           ? step + " failed (exit status " + std::to_string(exit_code) + ")"
                           : errors.back();
    // The last lines before our own error line: the compiler's or R's complaint.
    std::vector<std::string> tail;
    for (const auto& line : lines)
      if (!line.starts_with("ERROR: package ")) tail.push_back(line);
    if (tail.size() > kErrorTailLines) tail.erase(tail.begin(), tail.end() - kErrorTailLines);
    if (tail.empty()) return head;
    head += "; last lines of its log:";
    for (const auto& line : tail) head += "\n  " + line;
    return head;
  }

  bool install(const PlannedPackage& p, const std::map<std::string, const PlannedPackage*>& by_name,
               const fs::path& resolved) {
    // Held across the install: a concurrent build of the same package
    // waits here and then finds it in the store.
    auto lock = store_.lock(p.entry);
    if (store_.contains(p.entry)) {
      store_.touch(p.entry);
      log_->append(p.package + " " + p.version + ": installed by a concurrent build, reused");
      return false;
    }
    std::vector<StoreEntry> deps;
    collect_store_dependencies(p, by_name, deps);
    std::unique_ptr<TemporaryLibrary> lib;
    if (!deps.empty())
      lib = std::make_unique<TemporaryLibrary>(store_, ".build-" + uuid_v4(), deps);
    std::string source = p.download;
    if (!p.tarball.empty()) {
      source = "/in/" + p.tarball;
      if (!p.git_subdir.empty()) source += "/" + p.git_subdir;
    }
    const fs::path staging = store_.new_staging_dir();
    try {
      log_->append("Installing " + p.package + " " + p.version + " (" + describe_source(p) + ")");
      run_job("install-" + p.package, resolved, staging,
              {request_.rscript.string(), "/in/install.R", p.package, p.version, source, "/out"},
              lib ? std::string(kStoreMount) + "/.libs/" + lib->name() : "");
      store_.ingest(staging, p.entry, entry_metadata(p));
    } catch (...) {
      std::error_code ec;
      fs::remove_all(staging, ec);
      throw;
    }
    return true;
  }

  // Store entries of every non-host package `p` depends on, transitively.
  static void collect_store_dependencies(
      const PlannedPackage& p, const std::map<std::string, const PlannedPackage*>& by_name,
      std::vector<StoreEntry>& out) {
    for (const auto& name : p.dependencies) {
      auto it = by_name.find(name);
      if (it == by_name.end() || it->second->from_host()) continue;
      bool seen = false;
      for (const auto& e : out) seen = seen || e.package == name;
      if (seen) continue;
      out.push_back(it->second->entry);
      collect_store_dependencies(*it->second, by_name, out);
    }
  }

  static std::string describe_source(const PlannedPackage& p) {
    if (p.origin == "git") return "git " + p.git_url + " " + p.git_sha.substr(0, 12);
    return p.repository + (p.archived ? ", archived version" : "");
  }

  std::string entry_metadata(const PlannedPackage& p) const {
    nlohmann::json j{{"package", p.package},
                     {"version", p.version},
                     {"origin", p.origin},
                     {"platform", p.entry.platform},
                     {"linking_to", p.linking_to},
                     {"installed_at", store::format_rfc3339(std::chrono::system_clock::now())},
                     {"installed_for", request_.build_id}};
    if (p.origin == "git") {
      j["git_url"] = p.git_url;
      j["git_sha"] = p.git_sha;
      if (!p.git_subdir.empty()) j["git_subdir"] = p.git_subdir;
    } else {
      j["repository"] = p.repository_url;
    }
    return j.dump(2) + "\n";
  }

  const RestoreRequest& request_;
  backend::Backend& backend_;
  const PackageStore& store_;
  const std::shared_ptr<LineLog> log_;
  const Clock::time_point deadline_;
};

}  // namespace

RestoreResult restore_dependencies(const RestoreRequest& request, backend::Backend& backend,
                                   const PackageStore& store, std::shared_ptr<LineLog> log) {
  return Restorer(request, backend, store, std::move(log)).run();
}

}  // namespace blockyard::restore
