#include "api/relation.h"

#include "core/crypto.h"
#include "core/error.h"

namespace blockyard::api {

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

Relation relation_for(const Caller* caller, const store::App& app) {
  if (caller == nullptr) {
    return app.access_type == "public" ? Relation::anonymous : Relation::none;
  }
  if (caller->role == "admin") return Relation::admin;
  if (caller->sub == app.owner) return Relation::owner;
  if (app.access_type == "logged_in" || app.access_type == "public") return Relation::viewer;
  return Relation::none;
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
  if (!app || relation_for(&caller, *app) < minimum) {
    throw ApiError::not_found("app not found");
  }
  return *app;
}

}  // namespace blockyard::api
