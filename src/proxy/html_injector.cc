#include "proxy/html_injector.h"

#include <algorithm>
#include <cctype>

#include "http/message.h"

namespace blockyard::proxy {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_injectable_html(std::string_view content_type, std::string_view content_encoding) {
  auto media = trim(content_type.substr(0, content_type.find(';')));
  if (!http::iequals(media, "text/html")) return false;
  auto encoding = trim(content_encoding);
  return encoding.empty() || http::iequals(encoding, "identity");
}

std::string inject_before_head_end(std::string_view html, std::string_view snippet) {
  std::string folded = lower(html);
  auto at = folded.find("</head>");
  if (at == std::string::npos) at = folded.rfind("</body>");
  if (at == std::string::npos) return std::string(html);
  std::string out;
  out.reserve(html.size() + snippet.size());
  out.append(html.substr(0, at));
  out.append(snippet);
  out.append(html.substr(at));
  return out;
}

const std::string& resilient_client_tag() {
  static const std::string tag = "<script data-blockyard=\"resilient-socket\">" +
                                 std::string(resilient_client_js()) + "</script>";
  return tag;
}

}  // namespace blockyard::proxy
