// The app name `by deploy` uses: --name when given (it must follow the name
// rules), else the directory's name, or, when that breaks the rules (shiny's
// examples are called "01_hello"), a valid name made from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace blockyard::cli {

// Throws CliError naming the rule broken, with a suggestion when there is
// one. A name derived from `dir_name` adds a warning saying so.
std::string deploy_app_name(const std::string& dir_name,
                            const std::optional<std::string>& explicit_name,
                            std::vector<std::string>& warnings);

}  // namespace blockyard::cli
