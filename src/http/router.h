// Router: maps (method, path pattern) to a Handler. Patterns are literal
// segments and {param} segments, e.g. "/api/v1/apps/{id}/bundles"; a final
// "{rest...}" segment matches the remainder of the path. Matching fills
// Request::params. An unmatched path goes to the not-found handler (by
// default a 404 JSON error), a matched path with another method gives 405.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"

namespace blockyard::http {

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  // Answers requests whose path no route matches (any method).
  void set_not_found(Handler handler);
  // Dispatches; exceptions from handlers are turned into JSON errors
  // (ApiError -> its status, anything else -> 500 internal_error).
  Response dispatch(Request& request) const;
  // True if some route's pattern matches `path` (any method).
  bool matches(const std::string& path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string>& parts,
                    std::map<std::string, std::string>& params);
  std::vector<Route> routes_;
  Handler not_found_;
};

}  // namespace blockyard::http
