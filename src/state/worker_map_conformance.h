// The WorkerMap conformance suite (worker_map_conformance_test.cc); see
// conformance.h for how an implementation joins. Test-only header.
#pragma once

#include "state/conformance.h"
#include "state/worker_map.h"

namespace blockyard::state::testing {

using WorkerMapConformanceTest = ConformanceTest<WorkerMap>;

}  // namespace blockyard::state::testing
