// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl's commands that talk to the patch server about this host:
 * --register KEY [--register-autoretry], --unregister, --license-info,
 * --tag, --set-monitoring-key, --doctor.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/kcarectl/kcarectl.h"
#include "kcare/doctor.h"
#include "kcare/exitcodes.h"
#include "kcare/kernel.h"
#include "kcare/kpatch.h"

/* Worth retrying: the server is down or busy, not refusing us. */
static bool transient(int code)
{
	return code == -ECONNREFUSED || code == -EHOSTUNREACH || code == -ENETUNREACH ||
	       code == -ETIMEDOUT || code == -ECONNRESET || code == -EAGAIN;
}

static void print_reg(const struct kcctl *k, const struct kc_reg *r)
{
	if (k->json) {
		json_object *o = json_object_new_object(), *p = json_object_new_array();

		json_object_object_add(o, "server_id", json_object_new_string(r->server_id));
		json_object_object_add(o, "feed", json_object_new_string(r->feed));
		json_object_object_add(o, "sticky", json_object_new_string(r->sticky));
		for (unsigned b = KC_PRODUCT_KERNEL; b <= KC_PRODUCT_DB; b <<= 1)
			if (r->products & b)
				json_object_array_add(p,
						      json_object_new_string(kc_product_name(b)));
		json_object_object_add(o, "products", p);
		kcctl_print_json(o);
		json_object_put(o);
	} else if (!k->quiet) {
		printf("registered: server id %s, feed '%s'%s%s\n", r->server_id, r->feed,
		       r->sticky[0] ? ", sticky to " : "", r->sticky);
	}
}

int kcctl_register(struct kcctl *k, const char *key)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_reg r;
	unsigned delay = 1;
	int lock, ret;

	if (!key[0] || strlen(key) > 255)
		return kcctl_fail("--register needs a key (1-255 characters)");
	for (const char *c = key; *c; c++)
		if (!isgraph((unsigned char)*c))
			return kcctl_fail("the key has a space or a control character");
	lock = kc_agent_lock(&k->agent, 600, &err);
	if (lock < 0)
		return kcctl_fail("%s", err.msg);
	/* "IP" asks for IP-based registration, as KernelCare's installers do */
	while ((ret = kc_reg_register(&k->agent, strcmp(key, "IP") ? key : NULL, &r, &err)) < 0 &&
	       k->autoretry && transient(ret) && !kcctl_cancel) {
		struct timespec ts = {delay, 0};

		kcctl_warn("%s; retrying in %u s", err.msg, delay);
		kc_err_clear(&err);
		nanosleep(&ts, NULL);
		delay = delay < 60 ? delay * 2 : 60;
	}
	kc_agent_unlock(lock);
	if (ret < 0)
		return kcctl_fail("%s", err.msg);
	print_reg(k, &r);
	return KC_EXIT_OK;
}

int kcctl_unregister(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	int lock = kc_agent_lock(&k->agent, 600, &err), ret;

	if (lock < 0)
		return kcctl_fail("%s", err.msg);
	ret = kc_reg_unregister(&k->agent, &err);
	kc_agent_unlock(lock);
	if (ret < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->quiet)
		printf("unregistered\n");
	return KC_EXIT_OK;
}

int kcctl_license_info(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	json_object *o, *v;
	const char *note;
	int64_t limit = 0, servers = 0;
	bool valid = false;

	if (kc_reg_license(&k->agent, &o, &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (k->json) {
		kcctl_print_json(o);
		json_object_put(o);
		return KC_EXIT_OK;
	}
	if (json_object_object_get_ex(o, "valid", &v))
		valid = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "server_limit", &v))
		limit = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "servers", &v))
		servers = json_object_get_int64(v);
	note = json_object_object_get_ex(o, "note", &v) ? json_object_get_string(v) : "";
	printf("%s license: %lld server%s registered with the key", valid ? "valid" : "invalid",
	       (long long)servers, servers == 1 ? "" : "s");
	if (limit)
		printf(" (limit %lld)", (long long)limit);
	else
		printf(" (no limit)");
	printf("%s%s\n", note && *note ? "; " : "", note ? note : "");
	json_object_put(o);
	return valid ? KC_EXIT_OK : KC_EXIT_ERROR;
}

/* Saves a setting that the server hears at the next check-in, and checks in now if registered. */
static int set_and_checkin(struct kcctl *k, const char *key, const char *value)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_reg r;

	if (kc_conf_set_file(k->agent.paths.conf, key, value, &err) < 0)
		return kcctl_fail("%s", err.msg);
	kc_conf_free(k->agent.conf);
	k->agent.conf = NULL;
	if (kc_conf_load(k->agent.paths.conf, NULL, NULL, &k->agent.conf, &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (kc_reg_load(&k->agent, &r, NULL) == 0 && kc_reg_checkin(&k->agent, &r, &err) < 0)
		kcctl_warn("saved, but the server was not told yet: %s", err.msg);
	return KC_EXIT_OK;
}

int kcctl_set_tag(struct kcctl *k, const char *tag)
{
	size_t len = strlen(tag);

	if (len > 32 || strchr(tag, ','))
		return kcctl_fail("a tag is at most 32 characters, without commas");
	for (const char *c = tag; *c; c++)
		if (iscntrl((unsigned char)*c))
			return kcctl_fail("a tag may not hold control characters");
	return set_and_checkin(k, "TAG", len ? tag : NULL);
}

int kcctl_set_monitoring_key(struct kcctl *k, const char *key)
{
	size_t len = strlen(key);

	if (len < 16 || len > 32)
		return kcctl_fail("a monitoring key is 16 to 32 characters");
	for (const char *c = key; *c; c++)
		if (!isalnum((unsigned char)*c))
			return kcctl_fail("a monitoring key is letters and digits only");
	return set_and_checkin(k, "MONITORING_KEY", key);
}

/*
 * The kernel's side for support: its identity, whether it can take live
 * patches, and the live state as --info --json shows it (or why not).
 * Caller frees.
 */
static char *doctor_kernel_text(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_ident id;
	struct json_object *info = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (kc_kpatch_ident(k->agent.sysroot, &id, &err) < 0) {
		fprintf(f, "kernel identity: %s\n", err.msg);
	} else {
		fprintf(f, "release: %s\nversion: %s\nkernel id: %s\nbuild id: %s\n", id.release,
			id.version, id.kernel_id[0] ? id.kernel_id : "unknown",
			id.build_id[0] ? id.build_id : "unknown");
		if (kc_kpatch_supported(k->agent.sysroot, &err) < 0)
			fprintf(f, "live patching: %s\n", err.msg);
		else
			fprintf(f, "live patching: supported\n");
		if (kc_kernel_info(&k->agent, &id, &info, &err) < 0)
			fprintf(f, "state: %s\n", err.msg);
		else
			fprintf(f, "%s\n",
				json_object_to_json_string_ext(info,
							       JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(info);
	}
	fclose(f);
	return text;
}

int kcctl_doctor(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	char path[KC_AGENT_PATH_MAX], id[128], *kernel_text = doctor_kernel_text(k);
	struct kc_doctor_section extra[2];
	struct kc_reg r;
	struct kc_http *h;
	int ret;

	extra[0] = (struct kc_doctor_section){"kcarectl", "kcarectl " KC_VERSION "\n"};
	extra[1] = (struct kc_doctor_section){"kernel", kernel_text};
	printf("Generating report...\n");
	ret = kc_doctor_collect(&k->agent.paths, extra, 2, path, sizeof(path), &err);
	free(kernel_text);
	if (ret < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->agent.api_url[0]) {
		printf("No patch server is configured; the report is in %s\n", path);
		return KC_EXIT_OK;
	}
	printf("Uploading...\n");
	fflush(stdout);
	ret = kc_agent_http(&k->agent, &h, &err);
	if (ret == 0)
		ret = kc_doctor_upload(h, k->agent.api_url,
				       kc_reg_load(&k->agent, &r, NULL) == 0 ? r.server_id : NULL,
				       path, id, sizeof(id), &err);
	if (ret < 0) {
		kcctl_warn("%s", err.msg);
		printf("The report was not uploaded; it is in %s: send it to your support\n", path);
		return KC_EXIT_ERROR;
	}
	printf("Key: %s\nGive this key to your support team (the report is also in %s)\n", id,
	       path);
	return KC_EXIT_OK;
}
