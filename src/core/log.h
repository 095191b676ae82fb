// Logging: spdlog writing one JSON object per line to stderr. Use the spdlog
// free functions (spdlog::info(...)) after init_logging().
#pragma once

#include <string>

namespace blockyard {

// level: trace|debug|info|warn|warning|error; unknown values mean info.
void init_logging(const std::string& level);

// Escapes `text` for embedding inside a JSON string literal in a log message.
std::string json_escape(const std::string& text);

}  // namespace blockyard
