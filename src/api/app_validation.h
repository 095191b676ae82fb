// Validation of app fields sent by clients: the name rules and the PATCH body.
// Pure functions; failures carry the exact client-facing message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/app_name.h"
#include "core/config.h"
#include "store/models.h"

namespace blockyard::api {

// The app-name rules live in core/app_name.h (the CLI checks them too).
using blockyard::app_name_error;

// Bytes for a memory limit like "256m", "1g", "512mb", "1024" (bytes);
// suffixes k|kb|m|mb|g|gb are binary and case-insensitive. nullopt when the
// text is malformed or overflows.
std::optional<std::int64_t> parse_memory_limit(std::string_view text);

// The fields a PATCH /apps/{id} body may change. An outer nullopt means "not
// sent"; an inner nullopt means "clear".
struct AppPatch {
  std::optional<std::string> name;  // rename; the store keeps the old name as an alias
  store::AppUpdate settings;        // every other field (Store::update_app)

  // True when a field only the owner (or an admin) may change is present.
  bool needs_owner() const { return settings.access_type.has_value() || name.has_value(); }
};

// Parses and validates a PATCH body (a JSON object; unknown keys are
// ignored). Throws ApiError 400 with the offending field's message (a name
// breaking the app-name rules gives that rule's message), or 501 for fields
// this server cannot change yet (data_mounts, a non-empty refresh_schedule).
AppPatch parse_app_patch(const nlohmann::json& body, const Config& config);

}  // namespace blockyard::api
