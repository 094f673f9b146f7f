/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The verbs of kcare-build, one per cmd-<verb>.c; main.c's table lists
 * them. Each takes argv starting at the verb and returns an exit status
 * of kcare/exitcodes.h.
 */
#ifndef KC_AGENT_KCARE_BUILD_CMDS_H
#define KC_AGENT_KCARE_BUILD_CMDS_H

int cmd_pack(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_patchset(int argc, char **argv);
int cmd_deb(int argc, char **argv);
int cmd_kmod(int argc, char **argv);
int cmd_kernel(int argc, char **argv);

#endif
