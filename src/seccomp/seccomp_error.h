// SeccompError: why a profile could not be parsed or compiled, or why a
// compiled blob could not be read or installed. The message names the rule
// (e.g. "rules[3] (clone)") and the syscall when one is involved, so an
// operator can fix the JSON without reading this code.
#pragma once

#include <stdexcept>
#include <string>

namespace blockyard::seccomp {

class SeccompError : public std::runtime_error {
 public:
  explicit SeccompError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace blockyard::seccomp
