// HTML escaping for the few server-rendered pages. Pure function.
#pragma once

#include <string>

namespace blockyard {

// Escapes & < > " ' so `text` is safe in element content and quoted
// attribute values.
std::string html_escape(const std::string& text);

}  // namespace blockyard
