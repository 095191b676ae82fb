// CliError: a failure the `by` CLI reports to the user. main() catches it and
// renders `Error: <message>` (human) or {"error":"error","message":...} (JSON),
// then exits 1. Extra JSON fields (e.g. the deploy result of a failed build)
// ride along in `details` so JSON consumers keep the context.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace blockyard::cli {

class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& message, nlohmann::json details = nlohmann::json::object())
      : std::runtime_error(message), details_(std::move(details)) {}

  const nlohmann::json& details() const { return details_; }

 private:
  nlohmann::json details_;
};

}  // namespace blockyard::cli
