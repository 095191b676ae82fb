#include "authz/access.h"

#include <algorithm>

#include "authz/roles.h"

namespace blockyard::authz {

std::string_view relation_name(Relation relation) {
  switch (relation) {
    case Relation::none:
      return "none";
    case Relation::anonymous:
      return "anonymous";
    case Relation::viewer:
      return "viewer";
    case Relation::collaborator:
      return "collaborator";
    case Relation::owner:
      return "owner";
    case Relation::admin:
      return "admin";
  }
  return "none";
}

Relation evaluate_access(const auth::Caller* caller, const store::App& app,
                         const std::vector<store::AccessGrant>& grants) {
  if (caller == nullptr) {
    return app.access_type == "public" ? Relation::anonymous : Relation::none;
  }
  if (parse_role(caller->role) == Role::admin) return Relation::admin;
  if (caller->sub == app.owner) return Relation::owner;
  Relation granted = Relation::none;
  for (const auto& grant : grants) {
    bool mine = grant.kind == "user" ? grant.principal == caller->sub
                                     : grant.kind == "group" &&
                                           std::find(caller->groups.begin(), caller->groups.end(),
                                                     grant.principal) != caller->groups.end();
    if (!mine) continue;
    granted =
        std::max(granted, grant.role == "collaborator" ? Relation::collaborator : Relation::viewer);
  }
  if (granted != Relation::none) return granted;
  if (app.access_type == "logged_in" || app.access_type == "public") return Relation::viewer;
  return Relation::none;
}

bool can_view(Relation r) {
  return r > Relation::none;
}
bool can_use_proxy(Relation r) {
  return r > Relation::none;
}
bool can_deploy(Relation r) {
  return r >= Relation::collaborator;
}
bool can_delete(Relation r) {
  return r >= Relation::owner;
}
bool can_manage_access(Relation r) {
  return r >= Relation::owner;
}

std::string_view shiny_access(Relation r) {
  switch (r) {
    case Relation::admin:
    case Relation::owner:
      return "owner";
    case Relation::collaborator:
      return "collaborator";
    case Relation::viewer:
      return "viewer";
    case Relation::anonymous:
    case Relation::none:
      break;
  }
  return "anonymous";
}

bool is_content_role(std::string_view role) {
  return role == "viewer" || role == "collaborator";
}

bool is_grant_kind(std::string_view kind) {
  return kind == "user" || kind == "group";
}

}  // namespace blockyard::authz
