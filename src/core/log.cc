#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace blockyard {

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("blockyard");
  // JSON lines: time, level and message; the message is escaped by the caller
  // side through json_escape where it may contain quotes.
  logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
                      spdlog::pattern_time_type::utc);
  spdlog::level::level_enum lvl = spdlog::level::info;
  if (level == "trace") lvl = spdlog::level::trace;
  else if (level == "debug") lvl = spdlog::level::debug;
  else if (level == "warn" || level == "warning") lvl = spdlog::level::warn;
  else if (level == "error") lvl = spdlog::level::err;
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

std::string json_escape(const std::string& text) {
  std::string quoted = nlohmann::json(text).dump();
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace blockyard
