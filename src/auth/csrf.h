// Cross-site request refusal for requests authenticated by the session
// cookie (the original has none and relies on SameSite=Lax, which still
// sends the cookie from sibling origins of the same site, e.g. another port
// or subdomain).
//
// A state-changing request (not GET, HEAD or OPTIONS) that a browser sent
// because of the cookie is accepted only from this server's own pages:
// Sec-Fetch-Site "same-origin" (or "none": typed or bookmarked), or, from a
// browser that does not send Sec-Fetch-Site, an Origin equal to this
// server's origin. A request with neither header is refused: every browser
// that stores cookies sends one of them on such requests.
//
// Pure function; thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace blockyard::auth {

bool is_safe_method(std::string_view method);

// Whether the browser says the request comes from a page of `own_origin`
// (the rule above, whatever the method). The data plane applies it to
// WebSocket handshakes too: a GET that opens a channel acting for the user.
bool comes_from_own_origin(const std::optional<std::string>& sec_fetch_site,
                           const std::optional<std::string>& origin, std::string_view own_origin);

// `own_origin`: "scheme://host[:port]" of server.external_url.
bool is_same_origin_request(std::string_view method,
                            const std::optional<std::string>& sec_fetch_site,
                            const std::optional<std::string>& origin, std::string_view own_origin);

}  // namespace blockyard::auth
