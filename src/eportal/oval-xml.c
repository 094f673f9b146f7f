// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writing an OVAL 5.11.1 definitions document with libxml2's text writer
 * (it escapes whatever a patch description holds). One definition per CVE:
 *
 *   (kernel release is one of R... AND CVE not in the kernel CVE list)
 *   OR (package P at version V is installed, for one of the targets,
 *       AND CVE not in the userspace CVE list)
 *
 * The version test is "equal to the version the patch targets": a live
 * patch is made for one build, so a host with another version is not one
 * this definition concerns. Tests, objects and states are shared between
 * definitions and numbered in a fixed order, so the same data gives the
 * same document.
 */
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eportal/oval-int.h"

#define NS_DEF	  "http://oval.mitre.org/XMLSchema/oval-definitions-5"
#define NS_COMMON "http://oval.mitre.org/XMLSchema/oval-common-5"

/* The distinct targets of all CVEs, in first-seen order of the sorted data. */
struct uniq {
	const struct kc_oval_target **t;
	size_t n;
};

struct plan {
	struct uniq pkgs;  /* package + version: a test and a state each */
	struct uniq names; /* package names: one object each (b unused) */
	struct uniq kerns; /* kernel releases: a test and a state each */
	size_t nlists;	   /* CVE-list tests (and their objects) */
};

struct w {
	xmlTextWriterPtr x;
	const struct kc_oval_doc *doc;
	int bad; /* a writer call failed */
};

static size_t uniq_find(const struct uniq *u, const char *a, const char *b)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->t[i]->a, a) && (!b || !strcmp(u->t[i]->b, b)))
			return i;
	return (size_t)-1;
}

static int uniq_add(struct uniq *u, const struct kc_oval_target *t, int by_name)
{
	if (uniq_find(u, t->a, by_name ? NULL : t->b) != (size_t)-1)
		return 0;
	const struct kc_oval_target **nt = realloc(u->t, (u->n + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	u->t = nt;
	u->t[u->n++] = t;
	return 0;
}

static int plan_make(const struct kc_oval_data *d, struct plan *p)
{
	int r = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; !r && i < d->n; i++) {
		const struct kc_oval_cve *c = &d->cves[i];

		for (size_t j = 0; !r && j < c->nuser; j++)
			r = uniq_add(&p->pkgs, &c->user[j], 0)
				?: uniq_add(&p->names, &c->user[j], 1);
		for (size_t j = 0; !r && j < c->nkernel; j++)
			r = uniq_add(&p->kerns, &c->kernel[j], 0);
		p->nlists += (c->nuser > 0) + (c->nkernel > 0);
	}
	return r;
}

static void plan_free(struct plan *p)
{
	free(p->pkgs.t);
	free(p->names.t);
	free(p->kerns.t);
}

/* ---- writer shorthands (failures are collected in w->bad) ----------- */

static void start(struct w *w, const char *name)
{
	w->bad |= xmlTextWriterStartElement(w->x, BAD_CAST name) < 0;
}

static void end(struct w *w)
{
	w->bad |= xmlTextWriterEndElement(w->x) < 0;
}

static void attr(struct w *w, const char *name, const char *value)
{
	w->bad |= xmlTextWriterWriteAttribute(w->x, BAD_CAST name, BAD_CAST value) < 0;
}

static void text(struct w *w, const char *s)
{
	w->bad |= xmlTextWriterWriteString(w->x, BAD_CAST s) < 0;
}

static void leaf(struct w *w, const char *name, const char *value)
{
	start(w, name);
	text(w, value);
	end(w);
}

/* Starts an element with id="oval:NS:KIND:N" version="1". */
static void start_id(struct w *w, const char *name, const char *kind, size_t n)
{
	char id[160];

	snprintf(id, sizeof(id), "oval:%s:%s:%zu", w->doc->ns, kind, n);
	start(w, name);
	attr(w, "id", id);
	attr(w, "version", "1");
}

static void ref(struct w *w, const char *name, const char *attr_name, const char *kind, size_t n)
{
	char id[160];

	snprintf(id, sizeof(id), "oval:%s:%s:%zu", w->doc->ns, kind, n);
	start(w, name);
	attr(w, attr_name, id);
	end(w);
}

static void criterion(struct w *w, const char *kind, size_t n, const char *comment)
{
	char id[160];

	snprintf(id, sizeof(id), "oval:%s:%s:%zu", w->doc->ns, kind, n);
	start(w, "criterion");
	attr(w, "test_ref", id);
	attr(w, "comment", comment);
	end(w);
}

/* ---- numbering -------------------------------------------------------
 * tests:   package tests 1..P, kernel tests P+1..P+K, CVE-list tests after
 * objects: package names 1..N, the uname object N+1 (when there are kernels),
 *          CVE-list objects after
 * states:  package versions 1..P, kernel releases P+1..P+K
 */

static size_t list_obj(const struct plan *p, size_t n)
{
	return p->names.n + (p->kerns.n > 0) + n;
}

static const char *pkg_prefix(const struct w *w)
{
	return w->doc->pkg == KC_OVAL_DPKG ? "linux-def:dpkginfo" : "linux-def:rpminfo";
}

static void write_definition(struct w *w, const struct plan *p, const struct kc_oval_cve *c,
			     size_t n, size_t *list)
{
	char buf[512];
	int both = c->nuser && c->nkernel;

	start_id(w, "definition", "def", n);
	attr(w, "class", "vulnerability");
	start(w, "metadata");
	snprintf(buf, sizeof(buf), "%s: fixed by a live patch (%s)", c->id, c->products);
	leaf(w, "title", buf);
	start(w, "affected");
	attr(w, "family", "unix");
	leaf(w, "platform", w->doc->platform);
	end(w);
	start(w, "reference");
	attr(w, "source", "CVE");
	attr(w, "ref_id", c->id);
	snprintf(buf, sizeof(buf), "https://www.cve.org/CVERecord?id=%s", c->id);
	attr(w, "ref_url", buf);
	end(w);
	leaf(w, "description", *c->description ? c->description : c->id);
	end(w); /* metadata */
	if (both) {
		start(w, "criteria");
		attr(w, "operator", "OR");
	}
	if (c->nkernel) {
		start(w, "criteria");
		attr(w, "operator", "AND");
		start(w, "criteria");
		attr(w, "operator", "OR");
		for (size_t j = 0; j < c->nkernel; j++) {
			size_t k = uniq_find(&p->kerns, c->kernel[j].a, NULL);
			snprintf(buf, sizeof(buf), "the kernel release is %s", c->kernel[j].a);
			criterion(w, "tst", p->pkgs.n + k + 1, buf);
		}
		end(w);
		snprintf(buf, sizeof(buf), "%s is not in %s", c->id, w->doc->kernel_cvelist);
		criterion(w, "tst", p->pkgs.n + p->kerns.n + ++*list, buf);
		end(w);
	}
	if (c->nuser) {
		start(w, "criteria");
		attr(w, "operator", "AND");
		start(w, "criteria");
		attr(w, "operator", "OR");
		for (size_t j = 0; j < c->nuser; j++) {
			size_t k = uniq_find(&p->pkgs, c->user[j].a, c->user[j].b);
			snprintf(buf, sizeof(buf), "%s %s is installed", c->user[j].a,
				 c->user[j].b);
			criterion(w, "tst", k + 1, buf);
		}
		end(w);
		snprintf(buf, sizeof(buf), "%s is not in %s", c->id, w->doc->user_cvelist);
		criterion(w, "tst", p->pkgs.n + p->kerns.n + ++*list, buf);
		end(w);
	}
	if (both)
		end(w);
	end(w); /* definition */
}

/* The CVE-list test and object for @cve in @file, number @n among them. */
static void write_list_test(struct w *w, const struct plan *p, const char *cve, const char *file,
			    size_t n)
{
	char buf[512];

	start_id(w, "ind-def:textfilecontent54_test", "tst", p->pkgs.n + p->kerns.n + n);
	attr(w, "check", "all");
	attr(w, "check_existence", "none_exist");
	snprintf(buf, sizeof(buf), "%s is not in %s", cve, file);
	attr(w, "comment", buf);
	ref(w, "ind-def:object", "object_ref", "obj", list_obj(p, n));
	end(w);
}

static void write_list_object(struct w *w, const struct plan *p, const char *cve, const char *file,
			      size_t n)
{
	char buf[64];

	start_id(w, "ind-def:textfilecontent54_object", "obj", list_obj(p, n));
	leaf(w, "ind-def:filepath", file);
	start(w, "ind-def:pattern");
	attr(w, "operation", "pattern match");
	snprintf(buf, sizeof(buf), "^%s$", cve);
	text(w, buf);
	end(w);
	start(w, "ind-def:instance");
	attr(w, "datatype", "int");
	attr(w, "operation", "greater than or equal");
	text(w, "1");
	end(w);
	end(w);
}

static void write_tests(struct w *w, const struct plan *p, const struct kc_oval_data *d)
{
	char name[64], buf[512];
	size_t list = 0;

	start(w, "tests");
	snprintf(name, sizeof(name), "%s_test", pkg_prefix(w));
	for (size_t i = 0; i < p->pkgs.n; i++) {
		start_id(w, name, "tst", i + 1);
		attr(w, "check", "at least one");
		attr(w, "check_existence", "at_least_one_exists");
		snprintf(buf, sizeof(buf), "%s %s is installed", p->pkgs.t[i]->a, p->pkgs.t[i]->b);
		attr(w, "comment", buf);
		ref(w, "linux-def:object", "object_ref", "obj",
		    uniq_find(&p->names, p->pkgs.t[i]->a, NULL) + 1);
		ref(w, "linux-def:state", "state_ref", "ste", i + 1);
		end(w);
	}
	for (size_t i = 0; i < p->kerns.n; i++) {
		start_id(w, "unix-def:uname_test", "tst", p->pkgs.n + i + 1);
		attr(w, "check", "all");
		attr(w, "check_existence", "at_least_one_exists");
		snprintf(buf, sizeof(buf), "the kernel release is %s", p->kerns.t[i]->a);
		attr(w, "comment", buf);
		ref(w, "unix-def:object", "object_ref", "obj", p->names.n + 1);
		ref(w, "unix-def:state", "state_ref", "ste", p->pkgs.n + i + 1);
		end(w);
	}
	for (size_t i = 0; i < d->n; i++) {
		if (d->cves[i].nkernel)
			write_list_test(w, p, d->cves[i].id, w->doc->kernel_cvelist, ++list);
		if (d->cves[i].nuser)
			write_list_test(w, p, d->cves[i].id, w->doc->user_cvelist, ++list);
	}
	end(w);
}

static void write_objects(struct w *w, const struct plan *p, const struct kc_oval_data *d)
{
	char name[64];
	size_t list = 0;

	start(w, "objects");
	snprintf(name, sizeof(name), "%s_object", pkg_prefix(w));
	for (size_t i = 0; i < p->names.n; i++) {
		start_id(w, name, "obj", i + 1);
		leaf(w, "linux-def:name", p->names.t[i]->a);
		end(w);
	}
	if (p->kerns.n) {
		start_id(w, "unix-def:uname_object", "obj", p->names.n + 1);
		end(w);
	}
	for (size_t i = 0; i < d->n; i++) {
		if (d->cves[i].nkernel)
			write_list_object(w, p, d->cves[i].id, w->doc->kernel_cvelist, ++list);
		if (d->cves[i].nuser)
			write_list_object(w, p, d->cves[i].id, w->doc->user_cvelist, ++list);
	}
	end(w);
}

static void write_states(struct w *w, const struct plan *p)
{
	char name[64];

	if (!p->pkgs.n && !p->kerns.n)
		return; /* the schema wants at least one state in <states> */
	start(w, "states");
	snprintf(name, sizeof(name), "%s_state", pkg_prefix(w));
	for (size_t i = 0; i < p->pkgs.n; i++) {
		start_id(w, name, "ste", i + 1);
		start(w, "linux-def:evr");
		attr(w, "datatype",
		     w->doc->pkg == KC_OVAL_DPKG ? "debian_evr_string" : "evr_string");
		attr(w, "operation", "equals");
		text(w, p->pkgs.t[i]->b);
		end(w);
		end(w);
	}
	for (size_t i = 0; i < p->kerns.n; i++) {
		start_id(w, "unix-def:uname_state", "ste", p->pkgs.n + i + 1);
		start(w, "unix-def:os_release");
		attr(w, "operation", "equals");
		text(w, p->kerns.t[i]->a);
		end(w);
		end(w);
	}
	end(w);
}

static void write_doc(struct w *w, const struct plan *p, const struct kc_oval_data *d)
{
	char when[32];
	time_t t = (time_t)d->timestamp;
	struct tm tm;
	size_t list = 0;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	w->bad |= xmlTextWriterStartDocument(w->x, "1.0", "UTF-8", NULL) < 0;
	start(w, "oval_definitions");
	attr(w, "xmlns", NS_DEF);
	attr(w, "xmlns:oval", NS_COMMON);
	attr(w, "xmlns:ind-def", NS_DEF "#independent");
	attr(w, "xmlns:linux-def", NS_DEF "#linux");
	attr(w, "xmlns:unix-def", NS_DEF "#unix");
	start(w, "generator");
	leaf(w, "oval:product_name", "kcare eportal");
	leaf(w, "oval:schema_version", "5.11.1");
	leaf(w, "oval:timestamp", when);
	end(w);
	if (d->n) {
		start(w, "definitions");
		for (size_t i = 0; i < d->n; i++)
			write_definition(w, p, &d->cves[i], i + 1, &list);
		end(w);
		write_tests(w, p, d);
		write_objects(w, p, d);
		write_states(w, p);
	} else {
		/*
		 * The schema wants one of the sections, each with one entry: a
		 * variable no test uses says so without giving a scanner a result.
		 */
		start(w, "variables");
		start_id(w, "constant_variable", "var", 1);
		attr(w, "datatype", "string");
		attr(w, "comment", "no enabled live patch of this feed fixes a CVE");
		leaf(w, "value", "none");
		end(w);
		end(w);
	}
	end(w);
	w->bad |= xmlTextWriterEndDocument(w->x) < 0;
}

int kc_oval_xml(const struct kc_oval_doc *doc, const struct kc_oval_data *d, char **xml,
		size_t *len, struct kc_err *err)
{
	xmlBufferPtr buf = xmlBufferCreate();
	struct w w = {.doc = doc};
	struct plan p;
	int r;

	if (!buf)
		return kc_err_set(err, -ENOMEM, "out of memory");
	w.x = xmlNewTextWriterMemory(buf, 0);
	if (!w.x || plan_make(d, &p) < 0) {
		if (w.x)
			xmlFreeTextWriter(w.x);
		xmlBufferFree(buf);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	xmlTextWriterSetIndent(w.x, 1);
	xmlTextWriterSetIndentString(w.x, BAD_CAST "  ");
	write_doc(&w, &p, d);
	xmlFreeTextWriter(w.x); /* flushes into buf */
	plan_free(&p);
	r = w.bad ? kc_err_set(err, -EIO, "cannot write the OVAL document") : 0;
	if (!r) {
		*len = (size_t)xmlBufferLength(buf);
		*xml = malloc(*len + 1);
		if (!*xml)
			r = kc_err_set(err, -ENOMEM, "out of memory");
		else
			memcpy(*xml, xmlBufferContent(buf), *len + 1);
	}
	xmlBufferFree(buf);
	return r;
}
