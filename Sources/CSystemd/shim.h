// libsystemd's journal and notify APIs. sd_journal_sendv and sd_notify are not variadic, so Swift calls them
// directly; this header only gathers the includes in one place.
#ifndef IMDSWATCH_CSYSTEMD_SHIM_H
#define IMDSWATCH_CSYSTEMD_SHIM_H

#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-daemon.h>

#endif
