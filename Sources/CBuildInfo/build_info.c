// The version and commit scripts/build-release stamps into the binary. It exports IMDSWATCH_VERSION and
// IMDSWATCH_COMMIT, which Package.swift turns into -D defines for this file only, so a new version recompiles this
// file and relinks, nothing else. A plain `swift build` sets neither.
#include "CBuildInfo.h"

#ifndef IMDSWATCH_VERSION
#define IMDSWATCH_VERSION "0.0.0-dev"
#endif
#ifndef IMDSWATCH_COMMIT
#define IMDSWATCH_COMMIT "unknown"
#endif

const char *imdswatch_build_version(void) {
    return IMDSWATCH_VERSION;
}

const char *imdswatch_build_commit(void) {
    return IMDSWATCH_COMMIT;
}
