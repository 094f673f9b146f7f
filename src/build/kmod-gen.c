// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-level half of a kcare livepatch module: kcare-gen.h (identity,
 * /proc/kcare texts, switches, the klp_func/klp_object tables) included
 * by data/kmod/kcare-main.c, and kcare-sw.S, the entry of each switchable
 * function: it tests the switch and either runs the fix or jumps into
 * the original just past its ftrace call site, through a placeholder
 * symbol that kmod.c turns into a klp relocation. New functions are
 * named to the C compiler through asm labels, so a kernel header that
 * declares the same function with its real type does not clash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/kmod-int.h"
#include "kcare/conf.h"

void kc_kmod_gen_orig_name(size_t f, size_t k, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "__kcare_orig_%zu_%zu", f, k);
}

/* A C string literal of @s: printable ASCII as is, everything else in octal. */
static void gen_cstr(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e || c == '?')
			fprintf(o, "\\%03o", c);
		else
			fputc(c, o);
	}
	fputc('"', o);
}

static int gen_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every CVE of every fix, sorted, once each, a line each. */
static void gen_cvelist(FILE *o, const struct kc_kmod_gen *g)
{
	size_t n = 0, k = 0;
	char **all, *text = NULL, *line;
	size_t tlen = 0;
	FILE *t;

	for (size_t i = 0; i < g->nfixes; i++)
		n += g->fixes[i].ncves;
	all = calloc(n + 1, sizeof(*all));
	t = open_memstream(&text, &tlen);
	if (all && t) {
		for (size_t i = 0; i < g->nfixes; i++)
			for (size_t j = 0; j < g->fixes[i].ncves; j++)
				all[k++] = g->fixes[i].cves[j];
		qsort(all, n, sizeof(*all), gen_cmp_str);
		for (size_t i = 0; i < n; i++)
			if (!i || strcmp(all[i], all[i - 1]))
				fprintf(t, "%s\n", all[i]);
	}
	if (t)
		fclose(t);
	line = text ? text : "";
	fputs("static const char kcare_cvelist[] = ", o);
	gen_cstr(o, line);
	fputs(";\n", o);
	free(text);
	free(all);
}

static const char *gen_na(const char *s)
{
	return s && *s ? s : "N/A";
}

/* The kpatch-* blocks of kcarectl --patch-info, a blank line between them. */
static void gen_patches(FILE *o, const struct kc_kmod_gen *g)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *t = open_memstream(&text, &tlen);

	for (size_t i = 0; t && i < g->nfixes; i++) {
		const struct kc_kmod_fix *f = &g->fixes[i];

		fprintf(t, "%skpatch-name: %s\nkpatch-description: %s\nkpatch-kernel: %s\n",
			i ? "\n" : "", gen_na(f->name), gen_na(f->description), gen_na(f->kernel));
		fputs("kpatch-cve: ", t);
		for (size_t j = 0; j < f->ncves; j++)
			fprintf(t, "%s%s", j ? " " : "", f->cves[j]);
		fprintf(t, "%s\nkpatch-cvss: %s\nkpatch-cve-url: %s\nkpatch-patch-url: %s\n",
			f->ncves ? "" : "N/A", gen_na(f->cvss), gen_na(f->cve_url),
			gen_na(f->patch_url));
	}
	if (t)
		fclose(t);
	fputs("static const char kcare_patches[] = ", o);
	gen_cstr(o, text ? text : "");
	fputs(";\n", o);
	free(text);
}

/* Has fix @i the first mention of its switch? */
static int gen_first_switch(const struct kc_kmod_gen *g, size_t i)
{
	if (!g->fixes[i].sw)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (g->fixes[j].sw && !strcmp(g->fixes[j].sw, g->fixes[i].sw))
			return 0;
	return 1;
}

static void gen_switches(FILE *o, const struct kc_kmod_gen *g)
{
	size_t n = 0;

	for (size_t i = 0; i < g->nfixes; i++)
		if (gen_first_switch(g, i)) {
			fprintf(o, "int kcare_sw_%s; /* read by kcare-sw.S */\n", g->fixes[i].sw);
			n++;
		}
	fprintf(o, "#define KCARE_NSWITCHES %zu\nstatic struct ctl_table kcare_switches[] = {\n",
		n);
	for (size_t i = 0; i < g->nfixes; i++)
		if (gen_first_switch(g, i))
			fprintf(o,
				"\t{ .procname = \"kcare_%s\", .data = &kcare_sw_%s,\n"
				"\t  .maxlen = sizeof(int), .mode = 0644,\n"
				"\t  .proc_handler = proc_dointvec_minmax,\n"
				"\t  .extra1 = SYSCTL_ZERO, .extra2 = SYSCTL_ONE },\n",
				g->fixes[i].sw, g->fixes[i].sw);
	fputs("\t{ }\n};\n", o);
}

/* Distinct objects of the fixes' functions, vmlinux first (it carries the callbacks). */
static size_t gen_objects(const struct kc_kmod_gen *g, const char **objs, size_t max)
{
	size_t n = 0;

	objs[n++] = "vmlinux";
	for (size_t i = 0; i < g->nfixes; i++)
		for (size_t k = 0; k < g->fixes[i].nfuncs; k++) {
			const char *obj = g->fixes[i].funcs[k].obj;
			int seen = 0;

			for (size_t j = 0; j < n && !seen; j++)
				seen = !strcmp(objs[j], obj);
			if (!seen && n < max)
				objs[n++] = obj;
		}
	return n;
}

static void gen_tables(FILE *o, const struct kc_kmod_gen *g)
{
	const char *objs[256];
	size_t nobjs = gen_objects(g, objs, 256);

	for (size_t i = 0; i < g->nfixes; i++)
		for (size_t k = 0; k < g->fixes[i].nfuncs; k++) {
			if (g->fixes[i].sw)
				fprintf(o,
					"extern char kcare_new_%zu_%zu[] "
					"__asm__(\"kcare_sw_entry_%zu_%zu\");\n",
					i, k, i, k);
			else
				fprintf(o, "extern char kcare_new_%zu_%zu[] __asm__(\"%s\");\n", i,
					k, g->fixes[i].funcs[k].name);
		}
	for (size_t j = 0; j < nobjs; j++) {
		fprintf(o, "static struct klp_func kcare_funcs_%zu[] = {\n", j);
		for (size_t i = 0; i < g->nfixes; i++)
			for (size_t k = 0; k < g->fixes[i].nfuncs; k++) {
				const struct kc_kmod_func *fn = &g->fixes[i].funcs[k];

				if (strcmp(fn->obj, objs[j]))
					continue;
				fprintf(o,
					"\t{ .old_name = \"%s\", .new_func = kcare_new_%zu_%zu, "
					".old_sympos = %lu },\n",
					fn->name, i, k, fn->sympos);
			}
		fputs("\t{ }\n};\n", o);
	}
	fputs("static struct klp_object kcare_objs[] = {\n", o);
	for (size_t j = 0; j < nobjs; j++) {
		if (j)
			fprintf(o, "\t{ .name = \"%s\", .funcs = kcare_funcs_%zu },\n", objs[j], j);
		else
			fputs("\t{ .name = NULL, .funcs = kcare_funcs_0,\n"
			      "\t  .callbacks = { .post_patch = kcare_post_patch,\n"
			      "\t\t\t.pre_unpatch = kcare_pre_unpatch } },\n",
			      o);
	}
	fputs("\t{ }\n};\n", o);
}

/* Writes what @fn prints into DIR/NAME. */
static int gen_file(const char *dir, const char *name,
		    void (*fn)(FILE *o, const struct kc_kmod_gen *g), const struct kc_kmod_gen *g,
		    struct kc_err *err)
{
	char *text = NULL, path[4096];
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	int ret;

	if (!o)
		return kc_err_set(err, -ENOMEM, "out of memory");
	fn(o, g);
	fclose(o);
	if (!text)
		return kc_err_set(err, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = kc_file_write_atomic(path, text, len, 0644, err);
	free(text);
	return ret;
}

static void gen_header(FILE *o, const struct kc_kmod_gen *g)
{
	fputs("/* SPDX-License-Identifier: GPL-2.0-or-later */\n"
	      "/* Written by kcare-build kmod for this patch level; read by kcare-main.c. */\n",
	      o);
	fputs("#define KCARE_ID ", o);
	gen_cstr(o, g->id);
	fprintf(o, "\n#define KCARE_LEVEL %uU\n#define KCARE_LEVEL_STR \"%u\"\n", g->level,
		g->level);
	fprintf(o, "#define KCARE_BUILD_ID \"%s\"\n#define KCARE_KERNEL_ID \"%s\"\n", g->build_id,
		g->kernel_id);
	fputs("#define KCARE_RELEASE ", o);
	gen_cstr(o, g->release);
	fputs("\n#define KCARE_EFFECTIVE ", o);
	gen_cstr(o, g->effective ? g->effective : "");
	fputc('\n', o);
	gen_cvelist(o, g);
	gen_patches(o, g);
	gen_switches(o, g);
	gen_tables(o, g);
}

static void gen_switch_asm(FILE *o, const struct kc_kmod_gen *g)
{
	char orig[64];

	fputs("/* SPDX-License-Identifier: GPL-2.0-or-later */\n"
	      "/* Written by kcare-build kmod: the entries of switchable functions. */\n"
	      "#include <linux/linkage.h>\n\t.text\n",
	      o);
	for (size_t i = 0; i < g->nfixes; i++)
		for (size_t k = 0; g->fixes[i].sw && k < g->fixes[i].nfuncs; k++) {
			kc_kmod_gen_orig_name(i, k, orig, sizeof(orig));
			fprintf(o,
				"SYM_FUNC_START(kcare_sw_entry_%zu_%zu)\n"
				"\tcmpl $0, kcare_sw_%s(%%rip)\n"
				"\tjne 1f\n"
				"\tjmp %s\n"
				"1:\tjmp %s + %d\n"
				"SYM_FUNC_END(kcare_sw_entry_%zu_%zu)\n",
				i, k, g->fixes[i].sw, g->fixes[i].funcs[k].name, orig,
				g->fixes[i].funcs[k].skip, i, k);
		}
}

int kc_kmod_gen_write(const char *dir, const struct kc_kmod_gen *g, struct kc_err *err)
{
	int ret = gen_file(dir, "kcare-gen.h", gen_header, g, err);

	for (size_t i = 0; !ret && i < g->nfixes; i++)
		if (g->fixes[i].sw)
			return gen_file(dir, "kcare-sw.S", gen_switch_asm, g, err);
	return ret;
}
