// Umbrella header for the bundle format: include this one.
//   unpack_bundle / UnpackLimits          - server: safe extraction (unpack.h)
//   pack_directory / PackStats            - CLI: build the upload (pack.h)
//   check_entrypoint / detect_dependency_metadata - entrypoint.h
//   BundleError                           - bundle_error.h
#pragma once

#include "bundle/bundle_error.h"
#include "bundle/entrypoint.h"
#include "bundle/pack.h"
#include "bundle/unpack.h"
