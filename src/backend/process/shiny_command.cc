#include "backend/process/shiny_command.h"

#include <cstdio>

namespace blockyard::backend::process {

std::string r_string_literal(std::string_view text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::filesystem::path rscript_beside(const std::filesystem::path& r_path) {
  return r_path.parent_path() / "Rscript";
}

std::vector<std::string> shiny_command(const std::filesystem::path& rscript,
                                       const std::filesystem::path& app_dir, int port) {
  const std::string expr = "shiny::runApp(" + r_string_literal(app_dir.string()) +
                           ", host = \"127.0.0.1\", port = " + std::to_string(port) +
                           "L, launch.browser = FALSE)";
  return {rscript.string(), "-e", expr};
}

}  // namespace blockyard::backend::process
