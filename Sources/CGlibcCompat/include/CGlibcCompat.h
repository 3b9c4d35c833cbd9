// Link-time compatibility with glibc 2.34: hypot.c, dl_find_object.c, arc4random.c. Nothing here needs calling; the
// target only has to be linked into the executable (the `imdswatch` target depends on it).
#ifndef IMDSWATCH_CGLIBCCOMPAT_H
#define IMDSWATCH_CGLIBCCOMPAT_H

/// 1 when this build defines the glibc compatibility symbols (glibc on x86_64 or aarch64), else 0.
int imdswatch_glibc_compat_linked(void);

#endif
