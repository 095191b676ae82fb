// The command a worker runs inside the sandbox: Rscript evaluating
// shiny::runApp() on the mounted bundle, bound to 127.0.0.1:<port>. runApp
// serves both layouts, app.R and ui.R + server.R.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace blockyard::backend::process {

// `text` as an R double-quoted string literal (backslash, quote and control
// characters escaped).
std::string r_string_literal(std::string_view text);

// Rscript lives beside R ([process] r_path names R).
std::filesystem::path rscript_beside(const std::filesystem::path& r_path);

std::vector<std::string> shiny_command(const std::filesystem::path& rscript,
                                       const std::filesystem::path& app_dir, int port);

}  // namespace blockyard::backend::process
