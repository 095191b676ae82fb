#include "proxy/resume_protocol.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace blockyard::proxy {

namespace {

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string framed(const nlohmann::json& body) {
  return std::string(1, kControlMark) + body.dump();
}

}  // namespace

std::optional<ResumeQuery> parse_resume_query(std::string_view query) {
  ResumeQuery out;
  bool found = false;
  std::optional<std::uint64_t> last;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == kResumeParam) {
      found = true;
      if (value == "new") {
        out.fresh = true;
      } else {
        out.token = std::string(value);
      }
    } else if (key == kLastParam) {
      last = parse_count(value);
    } else if (!pair.empty()) {
      if (!out.other_query.empty()) out.other_query += '&';
      out.other_query += pair;
    }
  }
  if (!found) return std::nullopt;
  if (!out.fresh) out.last = last.value_or(0);
  return out;
}

std::string encode_app_text(std::string_view text) {
  if (!text.empty() && text.front() == kControlMark) {
    std::string out(1, kControlMark);
    out += text;
    return out;
  }
  return std::string(text);
}

TextFrame decode_text_frame(std::string_view frame) {
  if (frame.empty() || frame.front() != kControlMark) return {false, std::string(frame)};
  frame.remove_prefix(1);
  if (!frame.empty() && frame.front() == kControlMark) return {false, std::string(frame)};
  return {true, std::string(frame)};
}

std::string control_hello(std::string_view token, std::uint64_t received, bool resumed,
                          long long ttl_ms) {
  return framed(
      {{"t", "hello"}, {"token", token}, {"ack", received}, {"resumed", resumed}, {"ttl", ttl_ms}});
}

std::string control_ack(std::uint64_t received) {
  return framed({{"t", "ack"}, {"n", received}});
}

std::string control_ended(std::string_view reason) {
  return framed({{"t", "ended"}, {"reason", reason}});
}

bool is_control_close(std::string_view json) {
  auto body = nlohmann::json::parse(json, nullptr, false);
  return body.is_object() && body.value("t", "") == "close";
}

std::optional<std::uint64_t> parse_control_ack(std::string_view json) {
  auto body = nlohmann::json::parse(json, nullptr, false);
  if (!body.is_object() || body.value("t", "") != "ack") return std::nullopt;
  auto n = body.find("n");
  if (n == body.end() || !n->is_number_unsigned()) return std::nullopt;
  return n->get<std::uint64_t>();
}

}  // namespace blockyard::proxy
