// SPDX-License-Identifier: GPL-2.0-or-later
/* kcarectl's local settings: --set-sticky-patch, --set-patch-type, --import-key. */
#include <string.h>

#include "agent/kcarectl/kcarectl.h"
#include "kcare/exitcodes.h"
#include "kcare/trust.h"

static int reload(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;

	kc_conf_free(k->agent.conf);
	k->agent.conf = NULL;
	if (kc_conf_load(k->agent.paths.conf, NULL, NULL, &k->agent.conf, &err) < 0)
		return kcctl_fail("%s", err.msg);
	return KC_EXIT_OK;
}

int kcctl_set_sticky(struct kcctl *k, const char *value)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_feed_choice fc;
	struct kc_conf *saved = k->agent.conf;
	struct kc_conf *trial = NULL;
	char line[64];
	int ret;

	/* validate with the same parser the update uses, before anything is written */
	if (strlen(value) > 16)
		return kcctl_fail("STICKY_PATCH '%s' is not a date DDMMYY, KEY or empty", value);
	snprintf(line, sizeof(line), "STICKY_PATCH=%s\n", value);
	if (kc_conf_parse(line, strlen(line), NULL, NULL, &trial, &err) < 0)
		return kcctl_fail("%s", err.msg);
	k->agent.conf = trial;
	ret = kc_feed_choice_make(&k->agent, "", NULL, &fc, &err);
	k->agent.conf = saved;
	kc_conf_free(trial);
	if (ret < 0)
		return kcctl_fail("%s", err.msg);
	if (kc_conf_set_file(k->agent.paths.conf, "STICKY_PATCH", *value ? value : NULL, &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->quiet) {
		if (!*value)
			printf("sticky patch removed: the newest patches apply\n");
		else if (fc.sticky_date[0])
			printf("sticky to patches released up to %s\n", fc.sticky_date);
		else
			printf("sticky to the date set on the registration key\n");
	}
	return reload(k);
}

int kcctl_set_patch_type(struct kcctl *k, const char *type)
{
	struct kc_err err = KC_ERR_INIT;

	if (strcmp(type, "extra") && strcmp(type, "free") && strcmp(type, "default"))
		return kcctl_fail("patch type '%s' is not extra, free or default", type);
	if (kc_conf_set_file(k->agent.paths.conf, "PATCH_TYPE",
			     strcmp(type, "default") ? type : NULL, &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->quiet)
		printf("patch type: %s (takes effect at the next kernel update)\n", type);
	return reload(k);
}

int kcctl_import_key(struct kcctl *k, const char *path)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_pubkey key;

	if (kc_trust_pubkey_load(path, &key, &err) < 0)
		return kcctl_fail("%s: %s", path, err.msg);
	if (kc_trust_client_import_key(k->agent.paths.trust_dir, &key, &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->quiet)
		printf("imported root key %.16s...\n", key.keyid);
	return KC_EXIT_OK;
}
