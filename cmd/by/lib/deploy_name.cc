#include "lib/deploy_name.h"

#include "core/app_name.h"
#include "lib/cli_error.h"

namespace blockyard::cli {

std::string deploy_app_name(const std::string& dir_name,
                            const std::optional<std::string>& explicit_name,
                            std::vector<std::string>& warnings) {
  if (explicit_name) {
    const auto error = app_name_error(*explicit_name);
    if (!error) return *explicit_name;
    const auto suggestion = suggest_app_name(*explicit_name);
    throw CliError("invalid app name \"" + *explicit_name + "\": " + *error +
                   (suggestion ? "; try --name " + *suggestion : ""));
  }
  const auto error = app_name_error(dir_name);
  if (!error) return dir_name;
  const auto suggestion = suggest_app_name(dir_name);
  if (!suggestion) {
    throw CliError("directory name \"" + dir_name + "\" is not a valid app name (" + *error +
                   "); choose one with --name");
  }
  warnings.push_back("directory name \"" + dir_name + "\" is not a valid app name (" + *error +
                     "); deploying as \"" + *suggestion + "\" (use --name to choose another)");
  return *suggestion;
}

}  // namespace blockyard::cli
