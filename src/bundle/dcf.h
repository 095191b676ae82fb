// The Debian Control File format as R uses it: DESCRIPTION files, a
// repository's PACKAGES index, and the files the server and its restore
// scripts exchange. Records are separated by blank lines; a field is
// "Name: value"; a line starting with a space or tab continues the previous
// field (joined with "\n", leading whitespace dropped).
//
// Also the dependency fields of a DESCRIPTION ("Imports: shiny (>= 1.7),
// DBI"), which name packages with optional version constraints.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace blockyard::bundle {

// Field name -> value, in name order (R reads fields by name).
using DcfRecord = std::map<std::string, std::string>;

// Parses every record. Throws BundleError("<what>: line N: ...") on a line
// that is neither a field, a continuation nor blank, and on a continuation
// line before any field.
std::vector<DcfRecord> parse_dcf(std::string_view text, const std::string& what = "DCF");

// Writes records that parse_dcf() reads back identically (values with
// newlines become continuation lines). Field names must be non-empty and
// free of ':' and whitespace; throws std::invalid_argument otherwise.
std::string format_dcf(const std::vector<DcfRecord>& records);

// The non-blank items of a comma-separated list, each trimmed of
// whitespace (newlines included): " a,\n b , ," -> {"a", "b"}.
std::vector<std::string> split_list(std::string_view text);

// One entry of a dependency field: "shiny (>= 1.7.0)".
struct DependencyEntry {
  std::string package;
  std::string op;       // "", ">=", ">", "==", "<=", "<", "!="
  std::string version;  // "" when op is ""
};

// Parses a comma-separated dependency field, skipping "R" itself and empty
// entries. Throws BundleError naming the entry when a package name or a
// version constraint is malformed.
std::vector<DependencyEntry> parse_dependency_field(std::string_view field);

// R's package-name rule: letters, digits and '.', at least two characters,
// starting with a letter, not ending with '.'.
bool is_valid_package_name(std::string_view name);

// R's version rule: at least two non-negative integers separated by '.' or '-'.
bool is_valid_package_version(std::string_view version);

}  // namespace blockyard::bundle
