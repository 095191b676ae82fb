// Client side of the bundle format: what `by deploy` uploads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace blockyard::bundle {

struct PackStats {
  std::size_t files = 0;    // regular files stored
  std::uint64_t bytes = 0;  // their total content size
};

// Receives one human-readable line per thing left out of the archive, e.g.
// `skipping symlink "data/big.csv" (symlinks cannot be deployed)`.
using PackWarning = std::function<void(const std::string&)>;

// Packs the directory `dir` into a gzip-compressed tar at `archive_out`
// (created or truncated). Walks recursively in sorted (byte-wise) name order,
// so the same tree always yields the same entry order. Skips every hidden file
// or directory (name starts with '.') at any depth. Stores directories and
// regular files with paths relative to `dir`, no "./" prefix; file modes and
// mtimes come from the filesystem, owners are stored as 0.
//
// Symlinks and special files (fifos, sockets, devices) are skipped, and each
// one is reported to `warn` (ignored when empty): the server rejects link
// entries, and following them could ship files from outside the app. If
// `archive_out` lies inside `dir` it is not packed into itself.
//
// Throws std::runtime_error (message names the path, no prefix) when `dir` is not a
// directory or a read/write fails; the partial `archive_out` is then removed.
//
// `generated` adds top-level files with the given content (mode 0644),
// first in the archive, replacing a file of the same name in `dir` (`by
// deploy` adds the manifest.json it generated, e.g. for --repositories,
// without writing it into the app's directory).
PackStats pack_directory(const std::filesystem::path& dir, const std::filesystem::path& archive_out,
                         const PackWarning& warn = {},
                         const std::map<std::string, std::string>& generated = {});

}  // namespace blockyard::bundle
