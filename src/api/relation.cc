#include "api/relation.h"

#include "core/crypto.h"
#include "core/error.h"

namespace blockyard::api {

Relation relation_for(store::Store& store, const Caller& caller, const store::App& app) {
  // Admins and owners need no grant lookup.
  if (caller.role == "admin" || caller.sub == app.owner) {
    return authz::evaluate_access(&caller, app, {});
  }
  return authz::evaluate_access(&caller, app, store.list_access(app.id));
}

std::optional<store::App> find_app(store::Store& store, const std::string& key) {
  std::optional<store::App> app;
  if (is_uuid(key)) app = store.get_app(key);
  // A UUID-shaped string is also a syntactically valid app name.
  if (!app) app = store.get_app_by_name(key);
  if (!app) {
    if (auto alias = store.find_alias(key, store::now_rfc3339()))
      app = store.get_app(alias->app_id);
  }
  if (app && app->deleted_at) return std::nullopt;
  return app;
}

store::App require_app(store::Store& store, const Caller& caller, const std::string& key,
                       Relation minimum) {
  auto app = find_app(store, key);
  if (!app || relation_for(store, caller, *app) < minimum) {
    throw ApiError::not_found("app not found");
  }
  return *app;
}

}  // namespace blockyard::api
