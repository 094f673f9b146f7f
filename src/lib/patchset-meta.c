// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rules of patchset metadata that need no archive: product names,
 * patchset names (K<YYYYMMDD>_<NN>, U<YYYYMMDD>_<NN>[-qemu|-db]), release
 * times, field syntax, and kc_patchset_meta_validate() which the JSON
 * parser and the writer both run, so that whatever the writer emits the
 * reader accepts. Also the small helpers of patchset-int.h.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/patchset-int.h"

static const char *const ps_products[] = {
    [KC_PATCHSET_KERNEL] = "kernel",
    [KC_PATCHSET_LIBS] = "libs",
    [KC_PATCHSET_QEMU] = "qemu",
    [KC_PATCHSET_DB] = "db",
};

/* The name suffix of each product ("" for none). */
static const char *const ps_suffixes[] = {
    [KC_PATCHSET_KERNEL] = "",
    [KC_PATCHSET_LIBS] = "",
    [KC_PATCHSET_QEMU] = "-qemu",
    [KC_PATCHSET_DB] = "-db",
};

static const char *const ps_kpatch_keys[KC_KPATCH_NFIELDS] = {
    [KC_KPATCH_NAME] = "kpatch-name",	    [KC_KPATCH_DESCRIPTION] = "kpatch-description",
    [KC_KPATCH_CVE] = "kpatch-cve",	    [KC_KPATCH_CVSS] = "kpatch-cvss",
    [KC_KPATCH_CVE_URL] = "kpatch-cve-url", [KC_KPATCH_PATCH_URL] = "kpatch-patch-url",
};

const char *kc_patchset_product_name(enum kc_patchset_product p)
{
	if (p < KC_PATCHSET_KERNEL || p > KC_PATCHSET_DB)
		return NULL;
	return ps_products[p];
}

int kc_patchset_product_parse(const char *s, enum kc_patchset_product *p)
{
	for (int i = KC_PATCHSET_KERNEL; i <= KC_PATCHSET_DB; i++) {
		if (!strcmp(s, ps_products[i])) {
			*p = (enum kc_patchset_product)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *kc_patchset_kpatch_key(enum kc_patchset_kpatch_field f)
{
	if ((unsigned)f >= KC_KPATCH_NFIELDS)
		return NULL;
	return ps_kpatch_keys[f];
}

enum kc_patchset_kind ps_product_kind(enum kc_patchset_product p)
{
	return p == KC_PATCHSET_KERNEL ? KC_PATCHSET_MODULE : KC_PATCHSET_USER;
}

static int ps_days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* Reads exactly @n decimal digits at @s. */
static int ps_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int ps_date_ok(int y, int m, int d)
{
	return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= ps_days_in_month(y, m);
}

int kc_patchset_check_name(const char *name, enum kc_patchset_product product, struct kc_err *err)
{
	const char *pname = kc_patchset_product_name(product);
	char q[PS_QUOTE_MAX + 8];
	const char *rest;
	int y, m, d, nn;

	if (!pname)
		return kc_err_set(err, -EINVAL, "unknown product %d", (int)product);
	ps_quote(name, q, sizeof(q));
	if (name[0] != (product == KC_PATCHSET_KERNEL ? 'K' : 'U') || ps_digits(name + 1, 4, &y) ||
	    ps_digits(name + 5, 2, &m) || ps_digits(name + 7, 2, &d) || name[9] != '_' ||
	    ps_digits(name + 10, 2, &nn))
		return kc_err_set(
		    err, -EINVAL, "patchset name '%s': want %c<YYYYMMDD>_<NN>%s for product %s", q,
		    product == KC_PATCHSET_KERNEL ? 'K' : 'U', ps_suffixes[product], pname);
	if (!ps_date_ok(y, m, d))
		return kc_err_set(err, -EINVAL, "patchset name '%s': %.8s is not a date", q,
				  name + 1);
	if (nn < 1)
		return kc_err_set(err, -EINVAL,
				  "patchset name '%s': sequence number 00 (want 01-99)", q);
	rest = name + 12;
	if (!strcmp(rest, ps_suffixes[product]))
		return 0;
	for (int i = KC_PATCHSET_LIBS; i <= KC_PATCHSET_DB; i++)
		if (*ps_suffixes[i] && !strcmp(rest, ps_suffixes[i]))
			return kc_err_set(err, -EINVAL,
					  "patchset name '%s': suffix %s is for product %s, not %s",
					  q, rest, ps_products[i], pname);
	if (!*rest)
		return kc_err_set(err, -EINVAL,
				  "patchset name '%s': product %s needs the suffix %s", q, pname,
				  ps_suffixes[product]);
	return kc_err_set(err, -EINVAL, "patchset name '%s': unexpected '%s' after the number", q,
			  ps_quote(rest, (char[PS_QUOTE_MAX + 8]){0}, PS_QUOTE_MAX + 8));
}

/* Days since 1970-01-01 of a valid date (proleptic Gregorian calendar). */
static int64_t ps_days(int y, int m, int d)
{
	int64_t days = 0;

	for (int i = 1970; i < y; i++)
		days += 365 + ((i % 4 == 0 && i % 100 != 0) || i % 400 == 0);
	for (int i = 1; i < m; i++)
		days += ps_days_in_month(y, i);
	return days + d - 1;
}

int kc_patchset_time_parse(const char *s, int64_t *t, struct kc_err *err)
{
	char q[PS_QUOTE_MAX + 8];
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	const char *p = s + 10;

	if (ps_digits(s, 4, &y) || s[4] != '-' || ps_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    ps_digits(s + 8, 2, &d))
		goto bad;
	if (*p == 'T') {
		if (ps_digits(p + 1, 2, &h) || p[3] != ':' || ps_digits(p + 4, 2, &mi))
			goto bad;
		p += 6;
		if (*p == ':') {
			if (ps_digits(p + 1, 2, &sec))
				goto bad;
			p += 3;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			if (ps_digits(p + 1, 2, &oh) || p[3] != ':' || ps_digits(p + 4, 2, &om) ||
			    oh > 23 || om > 59)
				goto bad;
			p += 6;
		} else {
			goto bad;
		}
	}
	if (*p || !ps_date_ok(y, mo, d) || h > 23 || mi > 59 || sec > 59)
		goto bad;
	*t = ps_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	if (*t < 0)
		goto bad;
	return 0;
bad:
	return kc_err_set(err, -EINVAL,
			  "bad time '%s' (want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC or +HH:MM)",
			  ps_quote(s, q, sizeof(q)));
}

char *kc_patchset_time_format(int64_t t, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (bufsz < KC_PATCHSET_TIME_LEN + 1 || t < 0 || !gmtime_r(&tt, &tm) ||
	    tm.tm_year + 1900 > 9999) {
		if (bufsz)
			buf[0] = '\0';
		return buf;
	}
	snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

int ps_sha256_hex(const void *buf, size_t len, char *hex, struct kc_err *err)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	if (sodium_init() < 0)
		return kc_err_set(err, -ENOMEM, "cannot initialise libsodium");
	crypto_hash_sha256(h, buf, len);
	sodium_bin2hex(hex, KC_PATCHSET_SHA256_HEX + 1, h, sizeof(h));
	return 0;
}

const char *ps_quote(const char *s, char *buf, size_t bufsz)
{
	size_t o = 0;

	for (; *s && o + 8 < bufsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (o >= PS_QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

int ps_file_name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-");

	return n >= 1 && n <= PS_NAME_MAX && s[n] == '\0' && s[0] != '.';
}

int kc_patchset_id_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return n >= 1 && n <= 63 && s[n] == '\0';
}

int kc_patchset_cve_ok(const char *s)
{
	size_t n;

	if (strncmp(s, "CVE-", 4))
		return 0;
	s += 4;
	if (strspn(s, "0123456789") != 4 || s[4] != '-')
		return 0;
	s += 5;
	n = strspn(s, "0123456789");
	return n >= 4 && n <= 12 && s[n] == '\0';
}

int ps_release_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~-");

	return n >= 1 && n <= 64 && s[n] == '\0';
}

/* A package name or version: an alphanumeric first, then those and @extra, 1-128 bytes. */
static int ps_package_ok(const char *s, const char *extra)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = 0;

	if (!strchr(alnum, s[0]) || !s[0])
		return 0;
	while (s[n] && (strchr(alnum, s[n]) || strchr(extra, s[n])))
		n++;
	return s[n] == '\0' && n <= 128;
}

int ps_hex_ok(const char *s, size_t max)
{
	size_t n = strspn(s, "0123456789abcdef");

	return s[n] == '\0' && n >= 2 && n <= max && n % 2 == 0;
}

/*
 * Valid UTF-8 of at most @max bytes, without control characters (tab and
 * newline allowed when @multiline): these strings end up in one-line
 * outputs such as kcarectl --patch-info and HTTP headers.
 */
int ps_text_ok(const char *s, size_t max, int multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		unsigned c = *p, len, cp;

		if (c < 0x80) {
			if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
				return 0;
			len = 1;
			cp = c;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (unsigned i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return 0;
		p += len;
		n += len;
		if (n > max)
			return 0;
	}
	return 1;
}

/*
 * Whether two entries are the same patch for the same target: same id and
 * the same build-id, or (modules) the same kernel id.
 */
static int ps_same_target(const struct kc_patchset_patch *a, const struct kc_patchset_patch *b)
{
	if (strcmp(a->id, b->id))
		return 0;
	return (a->build_id && b->build_id && !strcmp(a->build_id, b->build_id)) ||
	       (a->kernel_id && b->kernel_id && !strcmp(a->kernel_id, b->kernel_id));
}

int ps_patch_validate(const struct kc_patchset_meta *m, size_t i, struct kc_err *err)
{
	const struct kc_patchset_patch *p = &m->patches[i];
	enum kc_patchset_kind want = ps_product_kind(m->product);
	char q[PS_QUOTE_MAX + 8];

	if (!p->file || strncmp(p->file, KC_PATCHSET_DIR "/", sizeof(KC_PATCHSET_DIR)) ||
	    !ps_file_name_ok(p->file + sizeof(KC_PATCHSET_DIR)))
		return kc_err_set(
		    err, -EBADMSG,
		    "patch %zu: bad file name '%s' (want patches/[A-Za-z0-9._+-]{1,128})", i,
		    p->file ? ps_quote(p->file, q, sizeof(q)) : "");
	ps_quote(p->file, q, sizeof(q));
	if (p->length > PS_LENGTH_MAX)
		return kc_err_set(err, -EBADMSG, "patch '%s': length %llu is too large", q,
				  (unsigned long long)p->length);
	if (strlen(p->sha256) != KC_PATCHSET_SHA256_HEX || !ps_hex_ok(p->sha256, 64))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': sha256 is not 64 lowercase hex digits", q);
	if (p->kind != want)
		return kc_err_set(err, -EBADMSG, "patch '%s': kind %s does not fit product %s", q,
				  p->kind == KC_PATCHSET_USER ? "user" : "kernel",
				  kc_patchset_product_name(m->product));
	if (p->kind == KC_PATCHSET_USER && (!p->build_id || p->kernel_id))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': a user patch needs a build_id and no kernel_id", q);
	if (p->kind == KC_PATCHSET_MODULE && !p->build_id)
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': a kernel patch needs the kernel's build_id", q);
	if (p->kind == KC_PATCHSET_USER && (p->release || p->effective))
		return kc_err_set(
		    err, -EBADMSG,
		    "patch '%s': release and effective_version are for kernel patches", q);
	if ((p->release && !ps_release_ok(p->release)) ||
	    (p->effective && !ps_release_ok(p->effective)))
		return kc_err_set(
		    err, -EBADMSG,
		    "patch '%s': release or effective_version is not a kernel release "
		    "([A-Za-z0-9._+~-]{1,64})",
		    q);
	if ((p->package || p->package_version) && p->kind != KC_PATCHSET_USER)
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': package and package_version are for user patches",
				  q);
	if (!p->package != !p->package_version)
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': package and package_version go together", q);
	if (p->package &&
	    (!ps_package_ok(p->package, "+.-") || !ps_package_ok(p->package_version, ".+~:_-")))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': package or package_version has a character other "
				  "than [A-Za-z0-9+.-] (name) or [A-Za-z0-9.+~:_-] (version), or "
				  "more than 128",
				  q);
	if (p->build_id && !ps_hex_ok(p->build_id, PS_HEXID_MAX))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': build_id is not lowercase hex (2-128 digits, even)",
				  q);
	if (p->kernel_id &&
	    (strlen(p->kernel_id) != PS_KERNEL_ID_HEX || !ps_hex_ok(p->kernel_id, 40)))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': kernel_id is not 40 lowercase hex digits", q);
	if (!p->target_name || !*p->target_name || strchr(p->target_name, '/') ||
	    !ps_text_ok(p->target_name, 255, 0))
		return kc_err_set(err, -EBADMSG, "patch '%s': bad target name", q);
	if (!p->id || !kc_patchset_id_ok(p->id))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': bad patch id (want [A-Za-z0-9._-]{1,63})", q);
	if (p->level < 1)
		return kc_err_set(err, -EBADMSG, "patch '%s': level must be at least 1", q);
	if (p->ncves > PS_CVES_MAX || (p->ncves && !p->cves))
		return kc_err_set(err, -EBADMSG, "patch '%s': too many CVE ids", q);
	for (size_t c = 0; c < p->ncves; c++)
		if (!p->cves[c] || !kc_patchset_cve_ok(p->cves[c]))
			return kc_err_set(err, -EBADMSG, "patch '%s': bad CVE id '%s'", q,
					  p->cves[c]
					      ? ps_quote(p->cves[c], (char[PS_QUOTE_MAX + 8]){0},
							 PS_QUOTE_MAX + 8)
					      : "");
	if (!p->description || !ps_text_ok(p->description, PS_TEXT_MAX, 1))
		return kc_err_set(err, -EBADMSG,
				  "patch '%s': description is not UTF-8 text of at most %d bytes",
				  q, PS_TEXT_MAX);
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		if (p->kpatch[f] && !ps_text_ok(p->kpatch[f], PS_LINE_MAX, 0))
			return kc_err_set(
			    err, -EBADMSG,
			    "patch '%s': %s is not one line of UTF-8 text (at most %d bytes)", q,
			    ps_kpatch_keys[f], PS_LINE_MAX);
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(m->patches[j].file, p->file))
			return kc_err_set(err, -EBADMSG, "patch '%s': file listed twice", q);
		if (ps_same_target(&m->patches[j], p))
			return kc_err_set(err, -EBADMSG,
					  "patch '%s': same target and id '%s' as '%s'", q, p->id,
					  ps_quote(m->patches[j].file, (char[PS_QUOTE_MAX + 8]){0},
						   PS_QUOTE_MAX + 8));
	}
	return 0;
}

int kc_patchset_meta_validate(const struct kc_patchset_meta *m, struct kc_err *err)
{
	char q[PS_QUOTE_MAX + 8];
	int ret;

	if (m->format != KC_PATCHSET_FORMAT)
		return kc_err_set(err, -EPROTONOSUPPORT, "format %u is not supported (want %u)",
				  m->format, KC_PATCHSET_FORMAT);
	if (!kc_patchset_product_name(m->product))
		return kc_err_set(err, -EBADMSG, "unknown product %d", (int)m->product);
	if (!m->name)
		return kc_err_set(err, -EBADMSG, "no patchset name");
	ret = kc_patchset_check_name(m->name, m->product, err);
	if (ret < 0) {
		/* the message stands; the code is the parser's */
		if (err)
			err->code = -EBADMSG;
		return -EBADMSG;
	}
	if (m->released < 0 || m->released > 253402300799LL) /* 9999-12-31T23:59:59Z */
		return kc_err_set(err, -EBADMSG, "release time %lld is out of range",
				  (long long)m->released);
	if (!m->description || !ps_text_ok(m->description, PS_TEXT_MAX, 1))
		return kc_err_set(err, -EBADMSG,
				  "patchset description is not UTF-8 text of at most %d bytes",
				  PS_TEXT_MAX);
	if (m->npatches < 1 || !m->patches)
		return kc_err_set(err, -EBADMSG, "patchset '%s' has no patches",
				  ps_quote(m->name, q, sizeof(q)));
	if (m->npatches > PS_PATCHES_MAX)
		return kc_err_set(err, -EBADMSG, "patchset has more than %d patches",
				  PS_PATCHES_MAX);
	for (size_t i = 0; i < m->npatches; i++) {
		ret = ps_patch_validate(m, i, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void ps_patch_release(struct kc_patchset_patch *p)
{
	free(p->file);
	free(p->build_id);
	free(p->kernel_id);
	free(p->target_name);
	free(p->id);
	for (size_t c = 0; c < p->ncves; c++)
		free(p->cves[c]);
	free(p->cves);
	free(p->description);
	free(p->release);
	free(p->effective);
	free(p->package);
	free(p->package_version);
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		free(p->kpatch[f]);
	memset(p, 0, sizeof(*p));
}

void kc_patchset_meta_free(struct kc_patchset_meta *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->npatches; i++)
		ps_patch_release(&m->patches[i]);
	free(m->patches);
	free(m->name);
	free(m->description);
	free(m);
}
