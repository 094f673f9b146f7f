/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The output directory of a build verb (-o): made with its parents when
 * missing, and what this run made is removed again when the build fails,
 * so that a failed command leaves nothing behind.
 */
#ifndef KC_AGENT_KCARE_BUILD_OUTDIR_H
#define KC_AGENT_KCARE_BUILD_OUTDIR_H

#include "kcare/err.h"

struct kb_outdir {
	char *path; /* the directory asked for */
	char *made; /* the top-most directory this run created, or NULL */
};

/* mkdir -p @dir (0755); an existing directory is fine. */
int kb_outdir_make(const char *dir, struct kb_outdir *od, struct kc_err *err);

/* Removes the directories kb_outdir_make() created, as far as they are empty. */
void kb_outdir_undo(struct kb_outdir *od);

void kb_outdir_release(struct kb_outdir *od);

#endif
