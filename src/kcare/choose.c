// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which verified feed entries this host applies: the feed (registration or
 * PREFIX), the delay of PREFIX=12h/24h/48h, the sticky date, and for each
 * (build-id, patch id) only the newest level, since levels are cumulative.
 * Delayed feeds and sticky dates choose among current signed metadata by
 * the release time each entry carries; old metadata is never needed.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcare/agent.h"
#include "kcare/trust.h"
#include "kcare/json-get.h"

/* "12h" -> 43200; -1 if @s is not hours */
static int64_t parse_hours(const char *s)
{
	char *end;
	long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || strcmp(end, "h") || v <= 0 || v > 24 * 366)
		return -1;
	return (int64_t)v * 3600;
}

static bool valid_feed_name(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 64 && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		   len;
}

/* Start of the day after YYYY-MM-DD (UTC): patchsets released on the sticky day count. */
static int day_end(int y, int m, int d, int64_t *out, char date[11])
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
	time_t t;

	char tmp[32];

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	t = timegm(&tm);
	/* timegm normalises 31 Feb to 3 Mar: refuse such dates */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != m - 1)
		return -1;
	*out = (int64_t)t + 86400;
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
	memcpy(date, tmp, 10);
	date[10] = '\0';
	return 0;
}

static int parse_sticky(const char *s, const struct kc_reg *reg, struct kc_feed_choice *fc,
			struct kc_err *err)
{
	size_t len = strlen(s);
	int d, m, y;

	if (len == 0)
		return 0;
	if (!strcasecmp(s, "KEY")) {
		/* the key's date as the server told us; none means "not sticky" */
		if (!reg || !reg->sticky[0])
			return 0;
		if (sscanf(reg->sticky, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
		    day_end(y, m, d, &fc->sticky_until, fc->sticky_date) < 0)
			return kc_err_set(err, -EBADMSG,
					  "the server's sticky date '%s' is not valid",
					  reg->sticky);
		return 0;
	}
	if ((len == 6 || len == 8) && strspn(s, "0123456789") == len) {
		d = (s[0] - '0') * 10 + (s[1] - '0');
		m = (s[2] - '0') * 10 + (s[3] - '0');
		y = len == 6 ? 2000 + (s[4] - '0') * 10 + (s[5] - '0') : atoi(s + 4);
		if (day_end(y, m, d, &fc->sticky_until, fc->sticky_date) == 0)
			return 0;
	}
	return kc_err_set(err, -EINVAL,
			  "STICKY_PATCH '%s' is not a date DDMMYY (or DDMMYYYY), KEY or empty", s);
}

int kc_feed_choice_make(const struct kc_agent *a, const char *prefix, const struct kc_reg *reg,
			struct kc_feed_choice *fc, struct kc_err *err)
{
	const char *sticky = kc_conf_get(a->conf, "STICKY_PATCH");
	int64_t hours;

	memset(fc, 0, sizeof(*fc));
	snprintf(fc->feed, sizeof(fc->feed), "%s", reg && reg->feed[0] ? reg->feed : "main");
	if (!prefix)
		prefix = kc_conf_get(a->conf, "PREFIX");
	if (prefix && *prefix) {
		hours = parse_hours(prefix);
		if (hours > 0)
			fc->delay_seconds = hours;
		else if (valid_feed_name(prefix))
			snprintf(fc->feed, sizeof(fc->feed), "%s", prefix);
		else
			return kc_err_set(
			    err, -EINVAL,
			    "prefix '%s' is neither a delay such as 12h nor a feed name", prefix);
	}
	return parse_sticky(sticky ? sticky : "", reg, fc, err);
}

static int entry_from(const struct kc_trust_target *t, struct kc_chosen *c, const char **kind,
		      struct kc_err *err)
{
	json_object *o = t->custom, *cves;
	int64_t level;

	memset(c, 0, sizeof(*c));
	c->target = t;
	*kind = kc_json_str(o, "kind");
	c->patchset = kc_json_str(o, "patchset");
	c->product = kc_json_str(o, "product");
	c->build_id = kc_json_str(o, "build_id");
	c->id = kc_json_str(o, "id");
	c->target_name = kc_json_str(o, "target");
	c->description = kc_json_str(o, "description");
	if (!*kind || !c->patchset || !c->product || !c->id || !c->target_name ||
	    !kc_json_int(o, "released", &c->released) || !kc_json_int(o, "level", &level) ||
	    level < 1 || level > UINT32_MAX)
		return kc_err_set(err, -EBADMSG, "feed entry '%s' lacks a field or has a bad one",
				  t->path);
	c->level = (uint32_t)level;
	if (!c->description)
		c->description = "";
	if (json_object_object_get_ex(o, "cves", &cves) &&
	    json_object_is_type(cves, json_type_array))
		c->cves = cves;
	return 0;
}

int kc_choose(const struct kc_trust_target *t, size_t n, const char *kind,
	      const struct kc_feed_choice *fc, int64_t now, struct kc_choice_result *out,
	      struct kc_err *err)
{
	int64_t cutoff = now - fc->delay_seconds, newest = INT64_MIN;

	memset(out, 0, sizeof(*out));
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct kc_chosen c;
		const char *k;
		size_t j;
		int ret = entry_from(&t[i], &c, &k, err);

		if (ret < 0) {
			kc_choice_result_free(out);
			return ret;
		}
		if (strcmp(k, kind))
			continue;
		if (c.released > cutoff || (fc->sticky_until && c.released >= fc->sticky_until)) {
			out->held_back++;
			continue;
		}
		if (!c.build_id) {
			kc_choice_result_free(out);
			return kc_err_set(err, -EBADMSG, "feed entry '%s' has no build_id",
					  t[i].path);
		}
		if (c.released > newest || (c.released == newest && out->newest_patchset &&
					    strcmp(c.patchset, out->newest_patchset) > 0)) {
			newest = c.released;
			out->newest_patchset = c.patchset;
		}
		for (j = 0; j < out->n; j++)
			if (!strcmp(out->v[j].build_id, c.build_id) && !strcmp(out->v[j].id, c.id))
				break;
		if (j == out->n)
			out->v[out->n++] = c;
		else if (c.level > out->v[j].level)
			out->v[j] = c;
	}
	return 0;
}

void kc_choice_result_free(struct kc_choice_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}
