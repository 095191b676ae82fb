// Validation of tar entry names before anything touches the disk.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace blockyard::bundle {

// The result of parsing one entry name. `components` is the path below the
// bundle root with "." and empty components dropped (so "./a//b/" gives
// {"a", "b"} and "./" gives {}, meaning the root itself). When the name is not
// acceptable, `problem` holds the user-facing reason and `components` is empty.
struct EntryPath {
  std::vector<std::string> components;
  std::string problem;

  bool ok() const { return problem.empty(); }
  bool is_root() const { return ok() && components.empty(); }
};

// Rejects absolute names and any ".." component (even one that would stay
// inside the root, such as "a/../b": legitimate packers never write them).
EntryPath parse_entry_path(std::string_view name);

// `name` quoted for an error message: control and non-ASCII bytes escaped as
// \xNN and long names shortened, so a hostile name cannot forge log lines.
std::string quote_entry_name(std::string_view name);

}  // namespace blockyard::bundle
