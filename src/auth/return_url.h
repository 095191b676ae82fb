// Where a sign-in may send the browser back to. Only a path on this server
// is accepted, so /login cannot be used as an open redirect.
#pragma once

#include <string>
#include <string_view>

namespace blockyard::auth {

// `requested` when it is a path on this server: starts with a single "/",
// is not "//..." (a scheme-relative URL) and holds no backslash (browsers
// read "/\evil.com" as "//evil.com"), no control character and no scheme
// or authority; otherwise "/".
std::string sanitize_return_url(std::string_view requested);

}  // namespace blockyard::auth
