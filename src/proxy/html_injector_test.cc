#include "proxy/html_injector.h"

#include <gtest/gtest.h>

namespace blockyard::proxy {
namespace {

TEST(HtmlInjector, OnlyIdentityEncodedHtml) {
  EXPECT_TRUE(is_injectable_html("text/html; charset=UTF-8", ""));
  EXPECT_TRUE(is_injectable_html("TEXT/HTML", "identity"));
  EXPECT_FALSE(is_injectable_html("text/html; charset=UTF-8", "gzip"));
  EXPECT_FALSE(is_injectable_html("application/json", ""));
  EXPECT_FALSE(is_injectable_html("text/htmlx", ""));
  EXPECT_FALSE(is_injectable_html("", ""));
}

TEST(HtmlInjector, GoesJustBeforeTheEndOfHead) {
  std::string page = "<html><HEAD><title>x</title></HEAD><body>hi</body></html>";
  EXPECT_EQ(inject_before_head_end(page, "<s/>"),
            "<html><HEAD><title>x</title><s/></HEAD><body>hi</body></html>");
}

TEST(HtmlInjector, FallsBackToTheEndOfBodyAndLeavesFragmentsAlone) {
  EXPECT_EQ(inject_before_head_end("<p>a</p></body></html>", "<s/>"), "<p>a</p><s/></body></html>");
  EXPECT_EQ(inject_before_head_end("<div>fragment</div>", "<s/>"), "<div>fragment</div>");
}

TEST(HtmlInjector, ScriptTagIsOneSelfContainedScriptElement) {
  const std::string& tag = resilient_client_tag();
  ASSERT_TRUE(tag.starts_with("<script"));
  ASSERT_TRUE(tag.ends_with("</script>"));
  // A closing tag inside would end the element early.
  EXPECT_EQ(tag.find("</script"), tag.size() - 9);
  EXPECT_NE(tag.find("Shiny.createSocket"), std::string::npos);
  EXPECT_NE(tag.find("blockyard_resume"), std::string::npos);
}

}  // namespace
}  // namespace blockyard::proxy
