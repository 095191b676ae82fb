// Base64 in the URL-safe alphabet without padding (RFC 4648 §5), as JWTs,
// JWKs and the signed cookies use it, and the standard alphabet with
// padding for HTTP Basic credentials. Pure functions, thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace blockyard {

std::string base64url_encode(std::string_view bytes);

// Decodes unpadded (or correctly padded) base64url. Empty optional on any
// character outside the alphabet or an impossible length.
std::optional<std::string> base64url_decode(std::string_view text);

// Standard alphabet, with '=' padding.
std::string base64_encode(std::string_view bytes);

}  // namespace blockyard
