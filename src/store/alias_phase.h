// The phase a stored alias row is in at a given time. Rows only move from
// "alias" to "redirect" when housekeeping runs, so readers compute the phase
// themselves instead of trusting a row that may be stale. Pure; thread safe.
#pragma once

#include <optional>
#include <string>

#include "store/models.h"

namespace blockyard::store {

// `row` as it stands at `now` (RFC 3339): unchanged while its phase lasts; an
// expired "alias" becomes "redirect" until expires_at + kRedirectPhase; an
// expired "redirect" (or an unparsable expiry) is nullopt.
std::optional<AppAlias> alias_at(AppAlias row, const std::string& now);

}  // namespace blockyard::store
