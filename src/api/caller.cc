#include "api/caller.h"

#include "core/error.h"

namespace blockyard::api {

Caller authenticate(store::Store& store, const http::Request& request) {
  auto token = request.bearer_token();
  if (!token || token->empty()) throw ApiError::unauthorized("authentication required");
  return auth::authenticate_token(store, *token);
}

int role_rank(std::string_view role) {
  if (role == "admin") return 3;
  if (role == "publisher") return 2;
  if (role == "viewer") return 1;
  return 0;
}

bool has_role_at_least(const Caller& caller, std::string_view role) {
  return role_rank(caller.role) >= role_rank(role);
}

void require_admin(const Caller& caller) {
  if (caller.role != "admin") throw ApiError::forbidden("admin only");
}

}  // namespace blockyard::api
