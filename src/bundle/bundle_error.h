// BundleError: a bundle that cannot be accepted or built. The message is
// user-facing (the API returns it to the uploader, the CLI prints it), so it
// names the offending entry and the reason, never internal details.
#pragma once

#include <stdexcept>

namespace blockyard::bundle {

class BundleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace blockyard::bundle
