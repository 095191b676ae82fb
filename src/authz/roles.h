// System roles (users.role), ordered none < viewer < publisher < admin
// (control-plane spec §2.1). Unknown strings are `none`. Pure functions.
#pragma once

#include <string_view>

#include "auth/caller.h"

namespace blockyard::authz {

enum class Role { none, viewer, publisher, admin };

Role parse_role(std::string_view text);
std::string_view role_name(Role role);

// True for the roles an admin may give: admin, publisher, viewer.
bool is_assignable_role(std::string_view text);

bool can_create_app(const auth::Caller& caller);     // publisher or admin
bool can_view_all_apps(const auth::Caller& caller);  // admin
bool can_manage_users(const auth::Caller& caller);   // admin

}  // namespace blockyard::authz
