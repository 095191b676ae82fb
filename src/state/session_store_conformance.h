// The SessionStore conformance suite (session_store_conformance_test.cc);
// see conformance.h for how an implementation joins. Test-only header.
#pragma once

#include "state/conformance.h"
#include "state/session_store.h"

namespace blockyard::state::testing {

using SessionStoreConformanceTest = ConformanceTest<SessionStore>;

}  // namespace blockyard::state::testing
