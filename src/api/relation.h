// The caller's relation to one app (authz/access.h), and app lookup by id or
// name with the "information hiding" rule: an app the caller may not act
// on is reported as 404 "app not found", never 403, so names of private
// apps do not leak.
#pragma once

#include <optional>
#include <string>

#include "api/caller.h"
#include "authz/access.h"
#include "store/models.h"
#include "store/store.h"

namespace blockyard::api {

using authz::Relation;
using authz::relation_name;

// The caller's relation to `app`, with the app's grants read from the store.
Relation relation_for(store::Store& store, const Caller& caller, const store::App& app);

// The live app whose id (UUID), current name, or former name (a rename alias
// in either phase) is `key`; nullopt if none.
std::optional<store::App> find_app(store::Store& store, const std::string& key);

// find_app() plus the access check: throws ApiError 404 "app not found" when
// the app does not exist or the caller's relation is weaker than `minimum`.
store::App require_app(store::Store& store, const Caller& caller, const std::string& key,
                       Relation minimum);

}  // namespace blockyard::api
