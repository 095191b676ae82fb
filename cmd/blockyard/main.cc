// blockyard: the server binary.
//   blockyard [--config FILE]   serve (no --config: ./blockyard.toml if it
//                               exists, else the embedded defaults)
//   blockyard --version
//   blockyard probe --tcp HOST:PORT [--timeout 2s]   (internal: preflight egress probe)
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "core/config.h"
#include "core/log.h"
#include "preflight/probe_command.h"
#include "server/server.h"

namespace {
constexpr const char* kDefaultConfigFile = "blockyard.toml";
}  // namespace

int main(int argc, char** argv) {
  // Helper subcommands run before any parsing, logging or config loading.
  if (argc > 1 && std::string_view(argv[1]) == "probe") {
    return blockyard::preflight::run_probe_command({argv + 2, argv + argc}, std::cout, std::cerr);
  }
  CLI::App app{"blockyard: deploy R Shiny apps, one sandboxed R worker per session"};
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "TOML configuration file (default: ./blockyard.toml if it exists, else the "
                 "built-in defaults)");
  app.set_version_flag("--version", std::string("blockyard ") + BLOCKYARD_VERSION);
  CLI11_PARSE(app, argc, argv);
  // As the original: without --config, a blockyard.toml in the working
  // directory is the configuration.
  std::error_code ec;
  const bool explicit_config = !config_path.empty();
  if (!explicit_config && std::filesystem::is_regular_file(kDefaultConfigFile, ec)) {
    config_path = kDefaultConfigFile;
  }

  blockyard::Config config;
  try {
    config = blockyard::load_config(config_path, blockyard::current_environment());
  } catch (const std::exception& e) {
    std::cerr << "blockyard: " << e.what() << "\n";
    return 2;
  }
  blockyard::init_logging(config.server.log_level);
  for (const auto& warning : config.warnings) spdlog::warn("{}", warning);
  if (config_path.empty()) {
    spdlog::info("no --config given and no ./{}: using the built-in defaults", kDefaultConfigFile);
  } else if (!explicit_config) {
    spdlog::info("no --config given: reading ./{}", kDefaultConfigFile);
  }
  blockyard::server::apply_default_seccomp_profile(config);

  try {
    return blockyard::server::run_server(config);
  } catch (const std::exception& e) {
    spdlog::critical("start-up failed: {}", e.what());
    std::cerr << "blockyard: " << e.what() << "\n";
    return 1;
  }
}
