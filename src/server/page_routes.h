// "/" (the landing page) and the answer for paths nothing serves: a page
// for browsers, the JSON 404 for everything under /api/ and for programs.
#pragma once

#include "http/router.h"

namespace blockyard::server {

void register_page_routes(http::Router& router);

}  // namespace blockyard::server
