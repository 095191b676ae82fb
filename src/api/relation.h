// The caller's relation to one app, and app lookup by id or name with the
// "information hiding" rule: an app the caller may not act on is reported as
// 404 "app not found", never 403, so names of private apps do not leak.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/caller.h"
#include "store/models.h"
#include "store/store.h"

namespace blockyard::api {

// Ordered: a stronger relation compares greater.
enum class Relation { none, anonymous, viewer, collaborator, owner, admin };

std::string_view relation_name(Relation relation);

// Pure. `caller` null = anonymous request. There are no per-app grants yet
// (they arrive with OIDC users), so `collaborator` is never produced:
// admin role -> admin; owner -> owner; logged_in/public app -> viewer;
// anonymous caller on a public app -> anonymous; otherwise none.
Relation relation_for(const Caller* caller, const store::App& app);

// The live app whose id (UUID), current name, or former name (a rename alias
// in either phase) is `key`; nullopt if none.
std::optional<store::App> find_app(store::Store& store, const std::string& key);

// find_app() plus the access check: throws ApiError 404 "app not found" when
// the app does not exist or the caller's relation is weaker than `minimum`.
store::App require_app(store::Store& store, const Caller& caller, const std::string& key,
                       Relation minimum);

}  // namespace blockyard::api
