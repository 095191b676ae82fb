#include "auth/csrf.h"

namespace blockyard::auth {

bool is_safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool is_same_origin_request(std::string_view method,
                            const std::optional<std::string>& sec_fetch_site,
                            const std::optional<std::string>& origin, std::string_view own_origin) {
  return is_safe_method(method) || comes_from_own_origin(sec_fetch_site, origin, own_origin);
}

bool comes_from_own_origin(const std::optional<std::string>& sec_fetch_site,
                           const std::optional<std::string>& origin, std::string_view own_origin) {
  if (sec_fetch_site) return *sec_fetch_site == "same-origin" || *sec_fetch_site == "none";
  if (origin) return !own_origin.empty() && *origin == own_origin;
  return false;
}

}  // namespace blockyard::auth
