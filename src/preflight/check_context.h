// What every check reads: the loaded configuration and the preflight options
// (seams for tests, facts about the backend the config does not carry).
// Immutable once built; shared by the runner with checks that outlive their
// timeout, hence held by shared_ptr.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "backend/process/sandbox_mounts.h"
#include "core/config.h"
#include "preflight/subprocess.h"

namespace blockyard::preflight {

// A service workers must not reach (see worker_egress).
struct EgressTarget {
  std::string name;  // cloud_metadata | redis | vault | database
  std::string host;
  int port = 0;
  bool critical = false;  // reachable => error rather than warning
  std::string address() const;
};

// Returns true when `target` is reachable from inside a worker sandbox.
using EgressProbe = std::function<bool(const EgressTarget&)>;

struct PreflightOptions {
  // The blockyard binary run inside the sandbox as `probe --tcp`; empty means
  // this process's own executable (/proc/self/exe).
  std::filesystem::path probe_executable;
  // True when the backend starts each worker under its own host UID (root
  // only). Checks that run sandboxes then run them as worker_uid_range_start.
  bool per_worker_uids = false;
  std::chrono::milliseconds check_timeout{30000};
  // Probing 169.254.169.254 sends traffic off the host; only when asked to.
  bool allow_metadata_probe = false;
  // Replaces the sandboxed probe (tests); empty = the real one.
  EgressProbe egress_probe;
};

// Options from the environment: allow_metadata_probe is set by
// BLOCKYARD_PREFLIGHT_ALLOW_METADATA_PROBE=1.
PreflightOptions options_from_environment(const Environment& env);

struct CheckContext {
  Config config;
  PreflightOptions options;

  // [process] as configured, or its defaults.
  ProcessConfig process() const { return config.process.value_or(ProcessConfig{}); }
  // The identity sandboxes run as: the first worker UID and the worker GID
  // when running as root with per_worker_uids; otherwise nullopt (our own).
  std::optional<Identity> worker_identity() const;
  std::filesystem::path probe_executable() const;
  // [process] worker_procfs as the backend applies it.
  backend::process::ProcMount worker_proc() const;
};

}  // namespace blockyard::preflight
