// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which shared objects of a package a diff can change, decided before any
 * build: an object is left alone only when the diff touches nothing but C
 * files, none of them is a compilation unit of the object (its STT_FILE
 * symbols, from the checked unstripped rebuild) and none is #included by
 * another file of the tree. Anything less certain goes to the differ,
 * which decides for real (builds of OpenSSL take minutes each).
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/deb-int.h"

/* Basenames of the files the diff's "+++ " lines name, "\n"-separated into @buf. */
static int scope_files(const char *diff, char *buf, size_t bufsz)
{
	FILE *f = fopen(diff, "re");
	char line[4096], *name, *base, *end;
	size_t used = 0;
	int only_c = 1, n = 0;

	if (!f)
		return -1;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "+++ ", 4))
			continue;
		name = line + 4;
		end = name + strcspn(name, "\t\n");
		*end = '\0';
		base = strrchr(name, '/');
		base = base ? base + 1 : name;
		if (end - base < 3 || strcmp(end - 2, ".c") || strchr(base, '\'') ||
		    used + strlen(base) + 2 > bufsz) {
			only_c = 0;
			break;
		}
		used += (size_t)snprintf(buf + used, bufsz - used, "%s\n", base);
		n++;
	}
	fclose(f);
	return only_c && n ? n : -1;
}

/* Whether @obj has an STT_FILE symbol named @base. -1 if unreadable. */
static int scope_has_unit(Elf *e, const char *base, size_t blen)
{
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	const char *n;

	for (Elf_Scn *s = NULL; (s = elf_nextscn(e, s)) != NULL;) {
		if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(s, NULL)))
			continue;
		for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FILE)
				continue;
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (n && strlen(n) >= blen && !strcmp(n + strlen(n) - blen, base) &&
			    (strlen(n) == blen || n[strlen(n) - blen - 1] == '/'))
				return 1;
		}
		return 0;
	}
	return -1;
}

/* Whether any C file or header under @tree #includes @base. */
static int scope_included(const char *tree, const char *base)
{
	char re[512];
	const char *const argv[] = {
	    "grep", "-rqE", "--include=*.c", "--include=*.h", "--include=*.inc", re, tree, NULL};
	struct kc_deb_cmd c = {.argv = argv};

	snprintf(re, sizeof(re), "#[[:space:]]*include[[:space:]]*[\"<]([^\">]*/)?%s[\">]", base);
	return kc_deb_exec(&c, NULL) != 1; /* 1: no match; 0 or trouble: assume included */
}

int kc_deb_scope_unaffected(const char *diff, const char *tree, const char *object)
{
	char files[4096];
	int fd, ret = 0;
	Elf *e = NULL;

	if (scope_files(diff, files, sizeof(files)) < 0)
		return 0;
	fd = open(object, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto out;
	ret = 1;
	for (char *s = files, *nl; ret && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (scope_has_unit(e, s, strlen(s)) != 0 || scope_included(tree, s))
			ret = 0;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}
