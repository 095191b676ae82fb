#include "http/router.h"

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace blockyard::http {

static std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Segments of the request's path, each percent-decoded on its own, so an
// encoded "/" ("%2F", e.g. in a group name) stays inside its segment.
static std::vector<std::string> request_segments(const Request& request) {
  if (request.target.empty() || request.target.front() != '/') return split_path(request.path);
  std::string raw = request.target.substr(0, request.target.find('?'));
  std::vector<std::string> parts = split_path(raw);
  for (auto& part : parts) part = url_decode(part);
  return parts;
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  routes_.push_back(Route{std::move(method), split_path(pattern), std::move(handler)});
}

void Router::set_not_found(Handler handler) {
  not_found_ = std::move(handler);
}

bool Router::match(const Route& route, const std::vector<std::string>& parts,
                   std::map<std::string, std::string>& params) {
  const auto& segs = route.segments;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& seg = segs[i];
    bool is_param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param && seg.ends_with("...}")) {
      std::string rest;
      for (std::size_t j = i; j < parts.size(); ++j) rest += (j > i ? "/" : "") + parts[j];
      params[seg.substr(1, seg.size() - 5)] = rest;
      return true;
    }
    if (i >= parts.size()) return false;
    if (is_param) {
      params[seg.substr(1, seg.size() - 2)] = parts[i];
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return segs.size() == parts.size();
}

bool Router::matches(const std::string& path) const {
  auto parts = split_path(path);
  std::map<std::string, std::string> params;
  for (const auto& r : routes_) {
    if (match(r, parts, params)) return true;
  }
  return false;
}

Response Router::dispatch(Request& request) const {
  auto parts = request_segments(request);
  bool path_matched = false;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match(route, parts, params)) continue;
    path_matched = true;
    if (route.method != request.method && !(route.method == "GET" && request.method == "HEAD")) {
      continue;
    }
    request.params = std::move(params);
    try {
      return route.handler(request);
    } catch (const ApiError& e) {
      return Response::error(e.status(), e.code(), e.what());
    } catch (const std::exception& e) {
      spdlog::error("handler {} {} failed: {}", request.method, request.path, e.what());
      return Response::error(500, "internal_error", "internal server error");
    }
  }
  if (path_matched) return Response::error(405, "method_not_allowed", "method not allowed");
  if (not_found_) return not_found_(request);
  return Response::error(404, "not_found", "not found");
}

}  // namespace blockyard::http
