/* privdrop.c: -Z USER with libcap-ng (see privdrop.h). */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privdrop.h"

bool privdrop_to_user(const char *user, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "-Z %s: %s", user,
			 errno ? strerror(errno) : "no such user");
		return false;
	}
	if (geteuid() != 0) {
		if (getuid() == pw->pw_uid)
			return true; /* already that user */
		snprintf(err, errlen, "-Z %s: only root can change to another user", user);
		return false;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW,
			  CAP_NET_ADMIN, -1) != 0) {
		snprintf(err, errlen, "-Z %s: cannot prepare the capability set", user);
		return false;
	}
	/* setgroups(0), setgid, setuid, keeping the set above; the bounding set emptied */
	int rc = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
				 CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc != 0) {
		snprintf(err, errlen, "-Z %s: changing to uid %u gid %u failed (libcap-ng %d)",
			 user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, rc);
		return false;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "-Z %s: no_new_privs: %s", user, strerror(errno));
		return false;
	}
	if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0) {
		snprintf(err, errlen, "-Z %s: still root after the change; refusing to go on",
			 user);
		return false;
	}
	return true;
}

void privdrop_trim_caps(void)
{
	if (geteuid() == 0)
		return; /* root without -Z: the operator's choice */
	capng_get_caps_process();
	if (!capng_have_capabilities(CAPNG_SELECT_CAPS))
		return;
	int raw = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_RAW);
	int admin = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
	capng_clear(CAPNG_SELECT_CAPS);
	if (raw)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW);
	if (admin)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN);
	capng_apply(CAPNG_SELECT_CAPS);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
