// _dl_find_object for the static libgcc unwinder (libgcc_eh.a, linked in by scripts/build-release).
//
// GCC 12's unwinder, built against glibc 2.35+, finds the unwind tables of a code address with _dl_find_object
// (GLIBC_2.35), and has no fallback once it was built to use it. Linked statically, it would make the binary need
// glibc 2.35. This hidden definition answers the same question the way older unwinders did, with dl_iterate_phdr
// (every glibc): the loaded object whose PT_LOAD segments contain the address, its mapped range and its
// PT_GNU_EH_FRAME segment. dlfo_link_map is left NULL (the unwinder does not read it).
#define _GNU_SOURCE
#include "CGlibcCompat.h"

#if __has_include(<features.h>)
#include <features.h>
#endif

#if defined(__linux__) && defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#ifdef DLFO_STRUCT_HAS_EH_DBASE
struct imdswatch_find_request {
    uintptr_t address;
    struct dl_find_object *result;
    int found;
};

static int imdswatch_visit_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct imdswatch_find_request *request = data;
    uintptr_t low = UINTPTR_MAX;
    uintptr_t high = 0;
    void *eh_frame = NULL;
    int contains = 0;
    for (size_t index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        if (header->p_type == PT_LOAD) {
            uintptr_t start = info->dlpi_addr + header->p_vaddr;
            uintptr_t end = start + header->p_memsz;
            if (start < low) low = start;
            if (end > high) high = end;
            if (request->address >= start && request->address < end) contains = 1;
        } else if (header->p_type == PT_GNU_EH_FRAME) {
            eh_frame = (void *)(info->dlpi_addr + header->p_vaddr);
        }
    }
    if (!contains) return 0;
    memset(request->result, 0, sizeof(*request->result));
    request->result->dlfo_map_start = (void *)low;
    request->result->dlfo_map_end = (void *)high;
    request->result->dlfo_eh_frame = eh_frame;
    request->found = 1;
    return 1;
}

__attribute__((visibility("hidden"))) int _dl_find_object(void *address, struct dl_find_object *result) {
    struct imdswatch_find_request request = {(uintptr_t)address, result, 0};
    dl_iterate_phdr(imdswatch_visit_object, &request);
    return request.found ? 0 : -1;
}
#endif
#endif
