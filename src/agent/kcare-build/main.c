// SPDX-License-Identifier: GPL-2.0-or-later
/* kcare-build: the patch toolchain front end. A verb table; each verb lives in cmd-<verb>.c. */
#include <stddef.h>

#include "agent/common/verbs.h"
#include "agent/kcare-build/cmds.h"

static const struct kc_verb verbs[] = {
    {"pack", cmd_pack, "make a patch file from a target and a fix object"},
    {"user", cmd_user, "make a patch file from a source tree and a diff"},
    {"deb", cmd_deb, "make patches for an installed Debian package from a diff"},
    {"kmod", cmd_kmod, "make a kernel livepatch module from fix sources"},
    {"kernel", cmd_kernel, "prepare a kernel tree and rebuild the objects a diff changes"},
    {"patchset", cmd_patchset, "pack patches and their metadata into a patchset archive"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return kc_verb_main("kcare-build", verbs, argc, argv);
}
