#include "auth/return_url.h"

namespace blockyard::auth {

std::string sanitize_return_url(std::string_view requested) {
  if (requested.empty() || requested.front() != '/') return "/";
  if (requested.size() > 1 && requested[1] == '/') return "/";
  for (char c : requested) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\\' || u < 0x20 || u == 0x7f) return "/";
  }
  // Percent-encoded tricks ("/%2F%2Fevil.com") stay paths: the browser does
  // not decode the Location header before resolving it.
  return std::string(requested);
}

}  // namespace blockyard::auth
