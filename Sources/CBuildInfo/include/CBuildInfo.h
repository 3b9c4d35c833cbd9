// The version and commit the binary was built from (see build_info.c).
#ifndef IMDSWATCH_CBUILDINFO_H
#define IMDSWATCH_CBUILDINFO_H

/// The package version: `1.2.3` at a tag, `1.2.3+4.gabcdef0` after one, `0.0.0+gabcdef0` with no tag, or
/// `0.0.0-dev` for a build not made by scripts/build-release. A static string.
const char *imdswatch_build_version(void);

/// The full commit hash the binary was built from, or `unknown`. A static string.
const char *imdswatch_build_commit(void);

#endif
