#include "bundle/script_scan.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "bundle/dcf.h"

namespace blockyard::bundle {

namespace {

namespace fs = std::filesystem;

enum class TokenKind { identifier, string, punct };

struct Token {
  TokenKind kind;
  std::string text;
};

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '.';
}
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
}

// A small R lexer: identifiers, string literals (contents), and punctuation
// ("::", ":::", "(", ")", ",", "=", anything else as one character).
// Comments and numbers are dropped.
std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if ((c == 'r' || c == 'R') && i + 2 < s.size() &&
               (s[i + 1] == '"' || s[i + 1] == '\'') &&
               std::string_view("([{-").find(s[i + 2]) != std::string_view::npos) {
      // Raw string r"(...)", r"[...]", r"{...}", with optional dashes.
      const char quote = s[i + 1];
      std::size_t j = i + 2;
      std::size_t dashes = 0;
      while (j < s.size() && s[j] == '-') ++dashes, ++j;
      if (j >= s.size()) break;
      const char open = s[j];
      const char close = open == '(' ? ')' : open == '[' ? ']' : '}';
      const std::string terminator = std::string(1, close) + std::string(dashes, '-') + quote;
      const std::size_t end = s.find(terminator, j + 1);
      const std::size_t stop = end == std::string_view::npos ? s.size() : end;
      tokens.push_back({TokenKind::string, std::string(s.substr(j + 1, stop - j - 1))});
      i = end == std::string_view::npos ? s.size() : end + terminator.size();
    } else if (c == '"' || c == '\'' || c == '`') {
      std::string text;
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != c) {
        if (s[j] == '\\' && j + 1 < s.size()) ++j;
        text += s[j++];
      }
      i = j + 1;
      // A backquoted name is an identifier.
      tokens.push_back({c == '`' ? TokenKind::identifier : TokenKind::string, text});
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (i < s.size() && (ident_char(s[i]))) ++i;
    } else if (ident_start(c)) {
      std::size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      tokens.push_back({TokenKind::identifier, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == ':' && s.substr(i, 3) == ":::") {
      tokens.push_back({TokenKind::punct, ":::"});
      i += 3;
    } else if (c == ':' && s.substr(i, 2) == "::") {
      tokens.push_back({TokenKind::punct, "::"});
      i += 2;
    } else if (c == '=' && s.substr(i, 2) == "==") {
      tokens.push_back({TokenKind::punct, "=="});
      i += 2;
    } else {
      tokens.push_back({TokenKind::punct, std::string(1, c)});
      ++i;
    }
  }
  return tokens;
}

bool is_punct(const std::vector<Token>& t, std::size_t i, std::string_view p) {
  return i < t.size() && t[i].kind == TokenKind::punct && t[i].text == p;
}

bool is_ident(const std::vector<Token>& t, std::size_t i, std::string_view name) {
  return i < t.size() && t[i].kind == TokenKind::identifier && t[i].text == name;
}

// The call starting at t[open] == "(": the package named by its `package`
// argument (or first positional one), unless character.only = TRUE.
std::string package_argument(const std::vector<Token>& t, std::size_t open, bool quoted_only) {
  std::string first;
  std::string named;
  bool character_only = false;
  int depth = 0;
  std::size_t arg_start = open + 1;
  for (std::size_t i = open; i < t.size(); ++i) {
    if (is_punct(t, i, "(") || is_punct(t, i, "[") || is_punct(t, i, "{")) {
      ++depth;
      continue;
    }
    if (is_punct(t, i, ")") || is_punct(t, i, "]") || is_punct(t, i, "}")) {
      if (--depth == 0) break;
      continue;
    }
    if (depth != 1) continue;
    if (is_punct(t, i, ",")) {
      arg_start = i + 1;
      continue;
    }
    if (i != arg_start) continue;
    // Start of an argument: "name = value" or a positional value.
    if (t[i].kind == TokenKind::identifier && is_punct(t, i + 1, "=")) {
      const std::string& arg = t[i].text;
      if (arg == "package" && i + 2 < t.size()) {
        const Token& v = t[i + 2];
        if (v.kind == TokenKind::string || (!quoted_only && v.kind == TokenKind::identifier))
          named = v.text;
      }
      if (arg == "character.only" && (is_ident(t, i + 2, "TRUE") || is_ident(t, i + 2, "T")))
        character_only = true;
      continue;
    }
    const bool followed_by_end = is_punct(t, i + 1, ",") || is_punct(t, i + 1, ")");
    if (first.empty() && arg_start == open + 1 && followed_by_end) {
      if (t[i].kind == TokenKind::string || (!quoted_only && t[i].kind == TokenKind::identifier))
        first = t[i].text;
    }
  }
  if (character_only) return "";
  return named.empty() ? first : named;
}

void add_package(std::set<std::string>& out, const std::string& name) {
  if (is_valid_package_name(name) && !is_base_package(name)) out.insert(name);
}

}  // namespace

bool is_base_package(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kBase = {
      "base",     "compiler", "datasets", "grDevices", "graphics", "grid",  "methods",
      "parallel", "splines",  "stats",    "stats4",    "tcltk",    "tools", "utils"};
  return std::find(kBase.begin(), kBase.end(), name) != kBase.end();
}

std::set<std::string> scan_r_source(std::string_view source) {
  const std::vector<Token> t = tokenize(source);
  std::set<std::string> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].kind != TokenKind::identifier) continue;
    if (is_punct(t, i + 1, "::") || is_punct(t, i + 1, ":::")) {
      add_package(out, t[i].text);
      continue;
    }
    if (i > 0 && (is_punct(t, i - 1, "::") || is_punct(t, i - 1, ":::") || is_punct(t, i - 1, "$")))
      continue;  // base::library(...) is still library; x$library is not
    const std::string& f = t[i].text;
    if (!is_punct(t, i + 1, "(")) continue;
    if (f == "library" || f == "require") {
      add_package(out, package_argument(t, i + 1, false));
    } else if (f == "requireNamespace" || f == "loadNamespace") {
      add_package(out, package_argument(t, i + 1, true));
    }
  }
  return out;
}

std::set<std::string> scan_app_scripts(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool hidden = name.starts_with(".");
    if (it->is_directory(ec)) {
      if (hidden || (it.depth() == 0 && (name == "renv" || name == "packrat")))
        it.disable_recursion_pending();
      continue;
    }
    if (hidden || !it->is_regular_file(ec)) continue;
    const std::string ext = it->path().extension().string();
    if (ext != ".R" && ext != ".r") continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) continue;
    std::stringstream buffer;
    buffer << in.rdbuf();
    out.merge(scan_r_source(buffer.str()));
  }
  return out;
}

}  // namespace blockyard::bundle
