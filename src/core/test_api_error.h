// Test-only: the HTTP status of the ApiError an expression throws.
#pragma once

#include "core/error.h"

namespace blockyard::testing {

// Status of the ApiError thrown by `body`, 0 if none.
template <typename Body>
int api_status_of(Body&& body) {
  try {
    body();
  } catch (const ApiError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace blockyard::testing
