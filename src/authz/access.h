// A caller's relation to an app, and what each relation may do
// (control-plane spec §2.2-2.3, plus grants to IdP groups).
//
// evaluate_access, first match wins:
//   1. no caller: `anonymous` if the app is public, else `none`
//   2. admin role: `admin`
//   3. the app's owner: `owner`
//   4. grants to the caller's sub or to one of their groups: the strongest
//      (`collaborator` or `viewer`)
//   5. a logged_in or public app: `viewer`
//   6. `none`
// The caller's system role (viewer/publisher) matters only in step 2.
//
// Pure functions; thread safe.
#pragma once

#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "store/models.h"

namespace blockyard::authz {

// Ordered: a stronger relation compares greater.
enum class Relation { none, anonymous, viewer, collaborator, owner, admin };

std::string_view relation_name(Relation relation);

Relation evaluate_access(const auth::Caller* caller, const store::App& app,
                         const std::vector<store::AccessGrant>& grants);

// The permission matrix (§2.3).
bool can_view(Relation r);  // details, and use through the proxy
bool can_use_proxy(Relation r);
bool can_deploy(Relation r);  // bundles, logs, runtime, rollback, enable/disable, config
bool can_delete(Relation r);
bool can_manage_access(Relation r);  // grants, access_type, rename

// X-Shiny-Access for the app: owner (owner or admin), collaborator, viewer,
// or anonymous.
std::string_view shiny_access(Relation r);

// True for "viewer" and "collaborator".
bool is_content_role(std::string_view role);
// True for "user" and "group".
bool is_grant_kind(std::string_view kind);

}  // namespace blockyard::authz
