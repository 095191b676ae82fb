// Finds the packages an app's R scripts use, for apps that carry no
// manifest.json, renv.lock or DESCRIPTION ("bare scripts"). The same scan
// runs in `by` and on the server, so both list the same packages.
//
// Recognised: library(pkg), require(pkg), requireNamespace("pkg"),
// loadNamespace("pkg"), library(package = "pkg") and pkg::name /
// pkg:::name, outside comments and strings. library(x, character.only =
// TRUE) names a variable and is skipped. R's base packages are left out.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

namespace blockyard::bundle {

// Packages used by one R source text.
std::set<std::string> scan_r_source(std::string_view source);

// Packages used by every *.R / *.r file under `dir`, skipping hidden files
// and directories, renv/ and packrat/. Unreadable files are skipped.
std::set<std::string> scan_app_scripts(const std::filesystem::path& dir);

// R's base and always-installed packages (base, stats, utils, ...): never
// fetched, never listed as dependencies.
bool is_base_package(std::string_view name);

}  // namespace blockyard::bundle
