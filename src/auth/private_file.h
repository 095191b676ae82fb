// Writing secrets to disk without ever exposing them: files readable only by
// the server's user, replaced atomically. Failures throw std::system_error
// naming the path.
#pragma once

#include <filesystem>
#include <string_view>

namespace blockyard::auth {

// mkdir -p where every directory this call creates gets mode 0700; existing
// directories are left as they are.
void create_private_directories(const std::filesystem::path& dir);

// Replaces `path` with `content`: writes a sibling temp file opened with
// O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, fsyncs it, then renames it over
// `path`. Readers see the old or the new file, never a partial or a
// world-readable one. The temp file is removed on failure.
void write_private_file(const std::filesystem::path& path, std::string_view content);

}  // namespace blockyard::auth
