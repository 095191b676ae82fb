// Server side of the bundle format: safe extraction of an uploaded archive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "bundle/bundle_error.h"

namespace blockyard::bundle {

// Caps that stop archive bombs. Entries counts every entry (dirs included);
// total and per-file bytes count uncompressed file content.
struct UnpackLimits {
  std::uint64_t max_total_bytes = 2ull << 30;
  std::size_t max_entries = 100000;
  std::uint64_t max_file_bytes = 2ull << 30;
};

// Unpacks the gzip-compressed tar `archive` into `dest`, which must not exist
// yet (its parent must); dest is created 0755.
//
// Only directories and regular files are accepted. Rejected, with the whole
// unpack failing: absolute paths, any ".." component, symlinks, hard links,
// character/block devices, fifos and any other entry type, entries beyond
// `limits`, corrupt or truncated gzip/tar data, and input that is not gzip.
// A leading "./" is fine. Files are written 0644 and directories 0755 whatever
// the tar says (and whatever the umask); owners and times are not restored.
// Every path is opened with openat() under a directory fd with O_NOFOLLOW, so
// nothing on disk is ever followed out of dest.
//
// On failure dest is removed entirely (unless it existed before the call, in
// which case it is left untouched). When the archive is at fault the
// exception is a BundleError saying what was wrong and which entry, e.g.
//   bundle: entry "../x": path escapes the bundle
// (answer 400). When the local system is at fault (archive unreadable, dest
// already exists, disk full, permissions) it is a std::system_error carrying
// the errno (answer 500).
// Thread-safe: shares no state between calls.
void unpack_bundle(const std::filesystem::path& archive, const std::filesystem::path& dest,
                   const UnpackLimits& limits = {});

}  // namespace blockyard::bundle
