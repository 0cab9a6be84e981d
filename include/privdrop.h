/* privdrop.h: -Z USER. After the capture is open, egressd needs no root: it becomes USER
 * (uid, primary gid, no supplementary groups), keeps only CAP_NET_RAW and CAP_NET_ADMIN
 * (effective and permitted, so a vanished interface can be opened again), empties the
 * bounding set, and sets no_new_privs so nothing it could execute regains privileges.
 * The only module that sees <cap-ng.h>.
 *
 * Call it before any thread starts: capabilities are per thread on Linux.
 */
#ifndef EGRESSD_PRIVDROP_H
#define EGRESSD_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/* false with a message in err. */
bool privdrop_to_user(const char *user, char *err, size_t errlen);

/* With no -Z: drop every capability but those two when running as a non-root user with
 * file capabilities (setcap cap_net_raw,cap_net_admin+ep). Harmless otherwise. */
void privdrop_trim_caps(void);

#endif
