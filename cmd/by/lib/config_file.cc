#include "lib/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lib/cli_error.h"
#include "core/unique_fd.h"

namespace blockyard::cli {
namespace fs = std::filesystem;

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string string_field(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw CliError(std::string("load config: parse config: \"") + key + "\" must be a string");
  }
  return it->get<std::string>();
}

void write_all(int fd, const std::string& data, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CliError("save config: write " + path.string() + ": " + errno_text());
    done += static_cast<size_t>(n);
  }
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

fs::path config_dir(const EnvLookup& env) {
  if (auto xdg = env("XDG_CONFIG_HOME")) return fs::path(*xdg) / "by";
  if (auto home = env("HOME")) return fs::path(*home) / ".config" / "by";
  throw CliError("cannot locate config directory: neither XDG_CONFIG_HOME nor HOME is set");
}

fs::path config_path(const EnvLookup& env) {
  return config_dir(env) / "config.json";
}

Credentials load_config_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  std::ifstream in(path);
  if (!in) throw CliError("load config: cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw CliError(std::string("load config: parse config: ") + e.what());
  }
  if (!doc.is_object()) throw CliError("load config: parse config: expected a JSON object");
  return {normalize_server_url(string_field(doc, "server")), string_field(doc, "token")};
}

void save_config_file(const fs::path& path, const Credentials& creds) {
  const fs::path dir = path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw CliError("save config: create " + dir.string() + ": " + ec.message());
  // The directory holds a secret; keep it private even if it pre-existed.
  if (::chmod(dir.c_str(), 0700) != 0) {
    throw CliError("save config: chmod " + dir.string() + ": " + errno_text());
  }

  const nlohmann::json doc = {{"server", creds.server}, {"token", creds.token}};
  const std::string text = doc.dump(2) + "\n";
  const fs::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());  // a stale temp file from an interrupted save
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) throw CliError("save config: create " + tmp.string() + ": " + errno_text());
  try {
    // open() honours the umask; force 0600 regardless.
    if (::fchmod(fd.get(), 0600) != 0) {
      throw CliError("save config: chmod " + tmp.string() + ": " + errno_text());
    }
    write_all(fd.get(), text, tmp);
    if (::fsync(fd.get()) != 0 || fd.close() != 0) {
      throw CliError("save config: write " + tmp.string() + ": " + errno_text());
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      throw CliError("save config: rename to " + path.string() + ": " + errno_text());
    }
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

Credentials resolve_credentials(const EnvLookup& env) {
  Credentials creds;
  if (auto url = env("BLOCKYARD_URL")) creds.server = normalize_server_url(*url);
  if (auto token = env("BLOCKYARD_TOKEN")) creds.token = *token;
  if (creds.server.empty() || creds.token.empty()) {
    const Credentials file = load_config_file(config_path(env));
    if (creds.server.empty()) creds.server = file.server;
    if (creds.token.empty()) creds.token = file.token;
  }
  if (creds.server.empty()) {
    throw CliError("no server configured; run 'by login' or set BLOCKYARD_URL");
  }
  if (creds.token.empty())
    throw CliError("no token configured; run 'by login' or set BLOCKYARD_TOKEN");
  return creds;
}

std::string normalize_server_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace blockyard::cli
