// Percent-encoding for URLs built by the server (query values, form bodies,
// redirect targets). Pure function.
#pragma once

#include <string>
#include <string_view>

namespace blockyard {

// Percent-encodes every byte except RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~) and those listed in `keep` (e.g. "/" for a path
// inside a query value). Upper-case hex, as RFC 3986 recommends.
std::string percent_encode(std::string_view text, std::string_view keep = "");

}  // namespace blockyard
