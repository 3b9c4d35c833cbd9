// hypot and hypotf for the static Swift runtime, bound to the glibc symbol version every glibc exports.
//
// glibc 2.35 added new versions of hypot and hypotf (hypot@@GLIBC_2.35). The static Swift runtime calls them, so a
// release binary linked on a glibc 2.35+ host (Debian 12: 2.36) would need GLIBC_2.35 and not start on glibc 2.34
// (Amazon Linux 2023). These hidden definitions satisfy the runtime's references inside the executable, and forward
// to the architecture's base version of each function (the same computation; only the old SVID error-handling mode
// differs, which nothing here uses). Hidden, so the executable exports no hypot that would shadow libm's: the
// versioned calls below then bind to libm at run time. scripts/package checks the result with objdump.
#include "CGlibcCompat.h"

// Defines __GLIBC__ (nothing else from libc is needed; <math.h> would declare hypot with default visibility).
#if __has_include(<features.h>)
#include <features.h>
#endif

#if defined(__linux__) && defined(__GLIBC__)
#if defined(__x86_64__)
#define IMDSWATCH_GLIBC_BASE_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define IMDSWATCH_GLIBC_BASE_VERSION "GLIBC_2.17"
#endif
#endif

#ifdef IMDSWATCH_GLIBC_BASE_VERSION
double imdswatch_libm_hypot(double x, double y);
float imdswatch_libm_hypotf(float x, float y);
__asm__(".symver imdswatch_libm_hypot, hypot@" IMDSWATCH_GLIBC_BASE_VERSION);
__asm__(".symver imdswatch_libm_hypotf, hypotf@" IMDSWATCH_GLIBC_BASE_VERSION);

__attribute__((visibility("hidden"))) double hypot(double x, double y) {
    return imdswatch_libm_hypot(x, y);
}

__attribute__((visibility("hidden"))) float hypotf(float x, float y) {
    return imdswatch_libm_hypotf(x, y);
}
#endif

int imdswatch_glibc_compat_linked(void) {
#ifdef IMDSWATCH_GLIBC_BASE_VERSION
    return 1;
#else
    return 0;
#endif
}
