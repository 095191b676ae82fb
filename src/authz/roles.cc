#include "authz/roles.h"

namespace blockyard::authz {

Role parse_role(std::string_view text) {
  if (text == "admin") return Role::admin;
  if (text == "publisher") return Role::publisher;
  if (text == "viewer") return Role::viewer;
  return Role::none;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::admin:
      return "admin";
    case Role::publisher:
      return "publisher";
    case Role::viewer:
      return "viewer";
    case Role::none:
      break;
  }
  return "none";
}

bool is_assignable_role(std::string_view text) {
  return parse_role(text) != Role::none;
}

bool can_create_app(const auth::Caller& caller) {
  return parse_role(caller.role) >= Role::publisher;
}

bool can_view_all_apps(const auth::Caller& caller) {
  return parse_role(caller.role) == Role::admin;
}

bool can_manage_users(const auth::Caller& caller) {
  return parse_role(caller.role) == Role::admin;
}

}  // namespace blockyard::authz
