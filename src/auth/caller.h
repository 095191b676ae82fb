// Caller: who a request acts for, once authenticated.
#pragma once

#include <string>
#include <vector>

namespace blockyard::auth {

// How the caller proved who they are.
enum class Credential {
  token,    // Authorization: Bearer by_... (a personal access token)
  session,  // the blockyard_session cookie of a browser sign-in
};

struct Caller {
  std::string sub;
  std::string name;  // display name; the sub when the user has none
  std::string role;  // admin | publisher | viewer (as stored on the user, read per request)
  Credential credential = Credential::token;
  std::vector<std::string> groups;  // IdP groups of a browser session (empty for tokens)
  std::string session_id;           // the browser session's store id (credential == session)
};

}  // namespace blockyard::auth
