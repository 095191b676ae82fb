#include "http/router.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace blockyard::http {
namespace {

Request make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(Router, MatchesParamsAndMethods) {
  Router router;
  router.add("GET", "/api/v1/apps/{id}",
             [](Request& r) { return Response::text(200, r.params["id"]); });
  router.add("POST", "/api/v1/apps/{id}/bundles",
             [](Request&) { return Response::text(202, "x"); });

  auto get = make("GET", "/api/v1/apps/hello");
  auto res = router.dispatch(get);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "hello");

  auto wrong_method = make("DELETE", "/api/v1/apps/hello");
  EXPECT_EQ(router.dispatch(wrong_method).status, 405);
  auto missing = make("GET", "/api/v1/nothing");
  EXPECT_EQ(router.dispatch(missing).status, 404);
  auto post = make("POST", "/api/v1/apps/a/bundles");
  EXPECT_EQ(router.dispatch(post).status, 202);
  auto too_long = make("GET", "/api/v1/apps/a/b");
  EXPECT_EQ(router.dispatch(too_long).status, 404);
}

TEST(Router, RestParameterTakesRemainder) {
  Router router;
  router.add("GET", "/docs/{rest...}",
             [](Request& r) { return Response::text(200, r.params["rest"]); });
  auto req = make("GET", "/docs/a/b/c");
  EXPECT_EQ(router.dispatch(req).body, "a/b/c");
}

TEST(Router, ErrorsBecomeJson) {
  Router router;
  router.add("GET", "/conflict", [](Request&) -> Response { throw ApiError::conflict("taken"); });
  router.add("GET", "/boom",
             [](Request&) -> Response { throw std::runtime_error("secret detail"); });
  auto c = make("GET", "/conflict");
  auto res = router.dispatch(c);
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(res.body, R"({"error":"conflict","message":"taken"})");
  auto b = make("GET", "/boom");
  res = router.dispatch(b);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("secret"), std::string::npos);
}

TEST(Router, EncodedSlashStaysInsideItsSegment) {
  Router router;
  router.add("DELETE", "/apps/{id}/access/{kind}/{principal}", [](Request& r) {
    return Response::text(200, r.params.at("kind") + "|" + r.params.at("principal"));
  });
  Request r;
  r.method = "DELETE";
  r.target = "/apps/a/access/group/%2Fengineering%2Fdata";
  r.path = url_decode(r.target);
  auto res = router.dispatch(r);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "group|/engineering/data");
}

TEST(Request, QueryAndBearer) {
  Request r;
  r.query = "worker_id=w%201&stream=false&flag";
  EXPECT_EQ(r.query_param("worker_id"), "w 1");
  EXPECT_EQ(r.query_param("stream"), "false");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_FALSE(r.query_param("nope"));
  r.headers.add("authorization", "Bearer by_abc");
  EXPECT_EQ(r.bearer_token(), "by_abc");
}

}  // namespace
}  // namespace blockyard::http
