// Symbolic names the profile format accepts: errno names (EPERM, ENOSYS…)
// and the constants that argument filters compare against (CLONE_NEW*,
// TIOCSTI…). Values may also be written as numbers. Thread-safe (constant
// tables only).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace blockyard::seccomp {

// "EPERM" -> 1. nullopt when the name is not in the table.
std::optional<int> errno_from_name(std::string_view name);

// Parses an argument value: a decimal or 0x-hex literal, a known constant
// name, or several of those joined by '|' (OR-ed). nullopt when malformed.
std::optional<std::uint64_t> parse_value_expression(std::string_view text);

}  // namespace blockyard::seccomp
