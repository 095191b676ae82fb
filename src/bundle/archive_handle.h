// Owning handles for libarchive objects, so every exit path frees them.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

namespace blockyard::bundle {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

using ReadArchive = std::unique_ptr<struct archive, ArchiveReadFree>;
using WriteArchive = std::unique_ptr<struct archive, ArchiveWriteFree>;
using ArchiveEntry = std::unique_ptr<struct archive_entry, ArchiveEntryFree>;

// libarchive's last error text for `a`, or "unknown error".
inline std::string archive_error_text(struct archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown error";
}

}  // namespace blockyard::bundle
