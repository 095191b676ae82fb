// The wire format of resumable Shiny WebSockets between the injected browser
// script (resilient_client.js) and the proxy; docs/websocket-resume.md has the
// whole protocol. Pure functions and small value types, no I/O.
//
// Framing: binary frames and text frames are application (Shiny) messages,
// numbered implicitly from 1 in each direction. A text frame that starts with
// kControlMark followed by a JSON object is a control message (hello, ack,
// ended). An application text frame that itself starts with kControlMark is
// sent with one extra kControlMark in front.
//
// Thread safety: everything here is stateless or a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blockyard::proxy {

inline constexpr char kControlMark = '\x1e';  // ASCII record separator

// Query parameters the browser script adds to the WebSocket URL.
inline constexpr std::string_view kResumeParam = "blockyard_resume";
inline constexpr std::string_view kLastParam = "last";

// Close code the proxy uses when a session cannot be resumed (4000-4999 is
// the application range of RFC 6455).
inline constexpr std::uint16_t kSessionEndedCloseCode = 4410;

// What a WebSocket upgrade's query asked for.
struct ResumeQuery {
  bool fresh = false;       // blockyard_resume=new: a new resumable session
  std::string token;        // otherwise: the session to resume
  std::uint64_t last = 0;   // messages the browser has already received
  std::string other_query;  // the rest of the query, for the worker
};

// nullopt when the query carries no blockyard_resume parameter (a plain
// WebSocket). A resume without a valid `last` reads as last = 0.
std::optional<ResumeQuery> parse_resume_query(std::string_view query);

// Text frame for an application text message (escapes a leading mark).
std::string encode_app_text(std::string_view text);

// A text frame from the browser, classified.
struct TextFrame {
  bool control = false;
  std::string payload;  // the application text, or the control JSON
};
TextFrame decode_text_frame(std::string_view frame);

// Control messages (each already framed, mark included).
std::string control_hello(std::string_view token, std::uint64_t received, bool resumed,
                          long long ttl_ms);
std::string control_ack(std::uint64_t received);
std::string control_ended(std::string_view reason);

// True for {"t":"close"}: the page is going away (sent on pagehide, since a
// browser leaving a page may drop the connection without a close frame).
bool is_control_close(std::string_view json);

// The acknowledged count of an {"t":"ack","n":N} control payload.
std::optional<std::uint64_t> parse_control_ack(std::string_view json);

}  // namespace blockyard::proxy
