// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Text encodings of the signed metadata: hex, strict base64 (through
 * libsodium, which refuses non-canonical padding bits), the one accepted
 * time format, and the character rules for feed names and target paths.
 * Everything here is pure: no I/O, no keys.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "trust-int.h"

void kc_trust_hex(const unsigned char *bin, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, bin, n);
}

int kc_trust_unhex(const char *hex, unsigned char *bin, size_t n)
{
	const char *end = NULL;
	size_t len = 0;

	if (strlen(hex) != 2 * n || sodium_hex2bin(bin, n, hex, 2 * n, NULL, &len, &end) != 0 ||
	    len != n || *end)
		return -EINVAL;
	return 0;
}

char *kc_trust_b64(const unsigned char *bin, size_t n)
{
	size_t sz = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(sz);

	if (!out)
		return NULL;
	sodium_bin2base64(out, sz, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int kc_trust_unb64(const char *b64, size_t b64len, unsigned char **bin, size_t *n)
{
	/* 3 bytes per 4 characters, rounded up: never smaller than the result */
	size_t max = b64len / 4 * 3 + 3;
	const char *end = NULL;
	unsigned char *out = malloc(max + 1);

	if (!out)
		return -ENOMEM;
	if (sodium_base642bin(out, max, b64, b64len, NULL, n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + b64len) {
		free(out);
		return -EINVAL;
	}
	out[*n] = '\0';
	*bin = out;
	return 0;
}

int kc_trust_unb64_exact(const char *b64, size_t b64len, unsigned char *bin, size_t n)
{
	unsigned char *tmp;
	size_t got;
	int rc = kc_trust_unb64(b64, b64len, &tmp, &got);

	if (rc)
		return rc;
	if (got != n)
		rc = -EINVAL;
	else
		memcpy(bin, tmp, n);
	sodium_memzero(tmp, got);
	free(tmp);
	return rc;
}

void kc_trust_time_fmt(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "invalid");
}

/*
 * Only the exact form the writer emits is accepted, so that one instant has
 * one spelling; reformatting the parsed value catches days like 02-31.
 */
int kc_trust_time_parse(const char *s, int64_t *t)
{
	struct tm tm = {0};
	char back[32];
	time_t v;

	if (strlen(s) != 20)
		return -EINVAL;
	for (int i = 0; i < 20; i++) {
		char c = s[i];
		bool digit = c >= '0' && c <= '9';

		switch (i) {
		case 4:
		case 7:
			if (c != '-')
				return -EINVAL;
			break;
		case 10:
			if (c != 'T')
				return -EINVAL;
			break;
		case 13:
		case 16:
			if (c != ':')
				return -EINVAL;
			break;
		case 19:
			if (c != 'Z')
				return -EINVAL;
			break;
		default:
			if (!digit)
				return -EINVAL;
		}
	}
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -EINVAL;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -EINVAL;
	kc_trust_time_fmt(v, back);
	if (strcmp(back, s) != 0)
		return -EINVAL;
	*t = v;
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

bool kc_trust_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KC_TRUST_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* Relative, '/'-separated, no empty, "." or ".." component: safe to append to a URL or dir. */
bool kc_trust_path_ok(const char *s)
{
	size_t n = strlen(s), start = 0;

	if (n == 0 || n > KC_TRUST_PATH_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if (!name_char(s[i]))
				return false;
			continue;
		}
		size_t len = i - start;

		if (len == 0 || (len == 1 && s[start] == '.') ||
		    (len == 2 && s[start] == '.' && s[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

bool kc_trust_keyid_ok(const char *s)
{
	if (strlen(s) != KC_TRUST_KEYID_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void kc_trust_sha256(const void *buf, size_t len, unsigned char out[KC_TRUST_SHA256_BYTES])
{
	crypto_hash_sha256(out, buf, len);
}

char *kc_trust_sha256_hex(const unsigned char sha[KC_TRUST_SHA256_BYTES],
			  char out[2 * KC_TRUST_SHA256_BYTES + 1])
{
	kc_trust_hex(sha, KC_TRUST_SHA256_BYTES, out);
	return out;
}

const char *kc_trust_role_name(enum kc_trust_role role)
{
	static const char *const names[KC_TRUST_NROLES] = {
	    [KC_TRUST_ROOT] = "root",
	    [KC_TRUST_TIMESTAMP] = "timestamp",
	    [KC_TRUST_SNAPSHOT] = "snapshot",
	    [KC_TRUST_TARGETS] = "targets",
	};

	if ((unsigned int)role >= KC_TRUST_NROLES)
		return NULL;
	return names[role];
}

int kc_trust_json_parse(const void *buf, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;

	if (len > INT_MAX)
		return -EFBIG;
	tok = json_tokener_new_ex(KC_TRUST_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj)
		return -EBADMSG;
	for (const char *p = (const char *)buf + end; p < (const char *)buf + len; p++) {
		if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') {
			json_object_put(obj);
			return -EBADMSG;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*out = obj;
	return 0;
}

const char *kc_trust_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL;
	return s;
}
