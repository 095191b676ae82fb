#include "server/page_routes.h"

#include "http/user_pages.h"

namespace blockyard::server {

void register_page_routes(http::Router& router) {
  router.add("GET", "/", [](http::Request&) {
    http::Response page;
    page.headers.set("Content-Type", "text/html; charset=utf-8");
    page.headers.set("Cache-Control", "no-cache");
    page.body = http::render_landing_page();
    return page;
  });
  router.set_not_found([](http::Request& request) {
    const bool html = !request.path.starts_with("/api/") &&
                      http::prefers_html(request.headers.get("Accept").value_or(""));
    return http::error_response(
        html, {404, "not_found", "not found", "Page not found",
               "There is nothing at this address. Apps live at /app/<name>/: check the link "
               "you were given."});
  });
}

}  // namespace blockyard::server
