// arc4random for the static libstdc++ (linked in by scripts/build-release).
//
// libstdc++ built against glibc 2.36+ seeds std::random_device with arc4random (GLIBC_2.36), which glibc 2.34 lacks.
// This hidden definition draws from the same kernel source with getrandom(2) (GLIBC_2.25), retrying on EINTR, and
// falls back to /dev/urandom; with neither it aborts, as arc4random itself does when it cannot get entropy.
#include "CGlibcCompat.h"

#if __has_include(<features.h>)
#include <features.h>
#endif

#if defined(__linux__) && defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
    uint32_t value = 0;
    ssize_t got;
    do {
        got = getrandom(&value, sizeof(value), 0);
    } while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof(value)) return value;

    int descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (descriptor >= 0) {
        size_t filled = 0;
        while (filled < sizeof(value)) {
            ssize_t count = read(descriptor, (char *)&value + filled, sizeof(value) - filled);
            if (count > 0) {
                filled += (size_t)count;
            } else if (count < 0 && errno == EINTR) {
                continue;
            } else {
                break;
            }
        }
        close(descriptor);
        if (filled == sizeof(value)) return value;
    }
    abort();
}
#endif
