// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Symbol tables of target kernel objects and the sympos rule of
 * kernel/livepatch/core.c: klp_find_object_symbol() counts every symbol
 * of the name (any type) in kallsyms order (vmlinux) or in the module's
 * symbol table order, and position 0 means "the name is unique". This
 * file keeps the tables and answers lookups; it does not find vmlinux's
 * tables (ksyms-kallsyms.c) nor decide what a fix may reference (kmod.c).
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/ksyms.h"

#define KSYMS_POOL 65536

void kc_ksyms_init(struct kc_ksyms *t)
{
	memset(t, 0, sizeof(*t));
}

void kc_ksyms_release(struct kc_ksyms *t)
{
	for (size_t i = 0; i < t->npools; i++)
		free(t->pools[i]);
	free(t->pools);
	free(t->syms);
	free(t->by_name);
	kc_ksyms_init(t);
}

/* Names are packed into 64 KiB pools; a longer name gets a pool of its own. */
static char *ksyms_store(struct kc_ksyms *t, const char *name)
{
	static const size_t hdr = sizeof(size_t);
	size_t len = strlen(name) + 1;
	char *pool = t->npools ? t->pools[t->npools - 1] : NULL;
	size_t *used = pool ? (size_t *)pool : NULL;
	char *s;

	if (!pool || *used + len > KSYMS_POOL) {
		size_t sz = len + hdr > KSYMS_POOL ? len + hdr : KSYMS_POOL;
		char **np = realloc(t->pools, (t->npools + 1) * sizeof(*np));

		if (!np)
			return NULL;
		t->pools = np;
		pool = malloc(sz);
		if (!pool)
			return NULL;
		t->pools[t->npools++] = pool;
		used = (size_t *)pool;
		*used = hdr;
	}
	s = pool + *used;
	memcpy(s, name, len);
	*used += len;
	return s;
}

int kc_ksyms_add(struct kc_ksyms *t, const char *name, char type, uint64_t addr, uint32_t sec)
{
	struct kc_ksym *s;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct kc_ksym *ns = realloc(t->syms, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		t->syms = ns;
		t->cap = cap;
	}
	s = &t->syms[t->n];
	s->name = ksyms_store(t, name);
	if (!s->name)
		return -ENOMEM;
	s->type = type;
	s->addr = addr;
	s->sec = sec;
	t->n++;
	return 0;
}

static const struct kc_ksyms *ksyms_sorting;

static int ksyms_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(ksyms_sorting->syms[x].name, ksyms_sorting->syms[y].name);

	return c ? c : (x > y) - (x < y);
}

int kc_ksyms_sort(struct kc_ksyms *t)
{
	free(t->by_name);
	t->by_name = malloc((t->n ? t->n : 1) * sizeof(*t->by_name));
	if (!t->by_name)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		t->by_name[i] = i;
	ksyms_sorting = t;
	qsort(t->by_name, t->n, sizeof(*t->by_name), ksyms_cmp);
	ksyms_sorting = NULL;
	return 0;
}

int kc_ksym_is_func(char type)
{
	return type == 't' || type == 'T' || type == 'W';
}

/* First entry of by_name whose name is >= @name. */
static size_t ksyms_lower(const struct kc_ksyms *t, const char *name)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->syms[t->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int kc_ksyms_find(const struct kc_ksyms *t, const char *name, unsigned long sympos, int want_func,
		  struct kc_ksym_match *m)
{
	size_t first, end, func_at = 0;

	memset(m, 0, sizeof(*m));
	if (!t->by_name)
		return -ENOENT;
	first = ksyms_lower(t, name);
	for (end = first; end < t->n && !strcmp(t->syms[t->by_name[end]].name, name); end++)
		if (kc_ksym_is_func(t->syms[t->by_name[end]].type) && !m->nfuncs++)
			func_at = end;
	m->count = end - first;
	if (!m->count)
		return -ENOENT;
	if (sympos) {
		if (sympos > m->count)
			return -ERANGE;
		m->sym = &t->syms[t->by_name[first + sympos - 1]];
		m->sympos = m->count > 1 ? sympos : 0;
		return 0;
	}
	if (m->count == 1) {
		m->sym = &t->syms[t->by_name[first]];
		return 0;
	}
	/* A function among data of the same name is still one choice, but klp needs its position.
	 */
	if (want_func && m->nfuncs == 1) {
		m->sym = &t->syms[t->by_name[func_at]];
		m->sympos = func_at - first + 1;
		return 0;
	}
	return -ENOTUNIQ;
}

/* The nm letter of a module symbol, from its ELF type, binding and section flags. */
static char ksyms_letter(const GElf_Sym *s, const GElf_Shdr *sh)
{
	char c;

	if (GELF_ST_TYPE(s->st_info) == STT_FUNC || (sh->sh_flags & SHF_EXECINSTR))
		c = 't';
	else if (sh->sh_type == SHT_NOBITS)
		c = 'b';
	else if (sh->sh_flags & SHF_WRITE)
		c = 'd';
	else
		c = 'r';
	if (GELF_ST_BIND(s->st_info) == STB_WEAK)
		return c == 't' ? 'W' : 'V';
	return GELF_ST_BIND(s->st_info) == STB_GLOBAL ? (char)(c - 'a' + 'A') : c;
}

static int ksyms_read_symtab(Elf *elf, const char *path, struct kc_ksyms *t, struct kc_err *err)
{
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr symsh = {0}, sh;
	size_t shstrndx, nsecs;
	Elf_Data *data;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0 || elf_getshdrnum(elf, &nsecs) < 0)
		return kc_err_set(err, -ENOEXEC, "'%s': not an ELF object", path);
	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			symscn = scn;
			symsh = sh;
		}
	if (!symscn || !(data = elf_getdata(symscn, NULL)) || !symsh.sh_entsize)
		return kc_err_set(err, -ENOEXEC, "'%s': no symbol table", path);
	for (size_t i = 1; i < symsh.sh_size / symsh.sh_entsize; i++) {
		GElf_Sym s;
		const char *name, *secname;
		Elf_Scn *dscn;

		if (!gelf_getsym(data, (int)i, &s))
			return kc_err_set(err, -ENOEXEC, "'%s': bad symbol %zu", path, i);
		if (s.st_shndx == SHN_UNDEF || s.st_shndx >= nsecs || !s.st_name ||
		    GELF_ST_TYPE(s.st_info) == STT_SECTION || GELF_ST_TYPE(s.st_info) == STT_FILE)
			continue;
		dscn = elf_getscn(elf, s.st_shndx);
		if (!dscn || !gelf_getshdr(dscn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		secname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (secname && !strncmp(secname, ".init", 5))
			continue;
		name = elf_strptr(elf, symsh.sh_link, s.st_name);
		if (!name)
			return kc_err_set(err, -ENOEXEC, "'%s': bad name of symbol %zu", path, i);
		if (kc_ksyms_add(t, name, ksyms_letter(&s, &sh), s.st_value, s.st_shndx) < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int kc_ksyms_read_module(const char *ko_path, struct kc_ksyms *t, struct kc_err *err)
{
	int fd = open(ko_path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	int ret;

	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", ko_path, strerror(errno));
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		ret = kc_err_set(err, -ENOEXEC, "'%s': not an ELF object", ko_path);
	else
		ret = ksyms_read_symtab(elf, ko_path, t, err);
	if (!ret && kc_ksyms_sort(t) < 0)
		ret = kc_err_set(err, -ENOMEM, "out of memory");
	elf_end(elf);
	close(fd);
	return ret;
}

/* Splits @text into lines and hands each (NUL-terminated copy) to @fn. */
static int ksyms_each_line(const char *text, size_t len, int (*fn)(char *line, void *arg),
			   void *arg)
{
	char buf[1024];

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = (nl ? (size_t)(nl - text) : len) - off;
		int ret;

		if (l >= sizeof(buf))
			return -E2BIG;
		memcpy(buf, text + off, l);
		buf[l] = 0;
		if (memchr(buf, 0, l))
			return -EINVAL;
		off += l + 1;
		if ((ret = fn(buf, arg)) < 0)
			return ret;
	}
	return 0;
}

struct ksyms_symvers_arg {
	struct kc_ksyms *vmlinux, *modules;
	size_t line;
};

static int ksyms_symvers_line(char *line, void *p)
{
	struct ksyms_symvers_arg *a = p;
	char *f[3], *save = NULL;
	struct kc_ksyms *t;

	a->line++;
	if (!*line)
		return 0;
	f[0] = strtok_r(line, "\t", &save);
	f[1] = strtok_r(NULL, "\t", &save);
	f[2] = strtok_r(NULL, "\t", &save);
	if (!f[0] || !f[1] || !f[2] || strncmp(f[0], "0x", 2) || !*f[1])
		return -EINVAL;
	t = !strcmp(f[2], "vmlinux") ? a->vmlinux : a->modules;
	if (t && kc_ksyms_add(t, f[1], 'X', 0, 0) < 0)
		return -ENOMEM;
	return 0;
}

int kc_ksyms_parse_symvers(const char *text, size_t len, struct kc_ksyms *vmlinux,
			   struct kc_ksyms *modules, struct kc_err *err)
{
	struct ksyms_symvers_arg a = {vmlinux, modules, 0};
	int ret = ksyms_each_line(text, len, ksyms_symvers_line, &a);

	if (ret == -ENOMEM)
		return kc_err_set(err, ret, "out of memory");
	if (ret < 0)
		return kc_err_set(err, -EINVAL, "Module.symvers: bad line %zu", a.line);
	if ((vmlinux && kc_ksyms_sort(vmlinux) < 0) || (modules && kc_ksyms_sort(modules) < 0))
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

struct ksyms_map_arg {
	struct kc_ksyms *t;
	size_t line;
};

static int ksyms_map_line(char *line, void *p)
{
	struct ksyms_map_arg *a = p;
	char *end, *name;
	unsigned long long addr;

	a->line++;
	if (!*line)
		return 0;
	addr = strtoull(line, &end, 16);
	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ' || !end[3])
		return -EINVAL;
	name = end + 3;
	/* /proc/kallsyms adds "\t[module]"; a System.map line has nothing after the name. */
	name[strcspn(name, "\t ")] = 0;
	if (!*name)
		return -EINVAL;
	return kc_ksyms_add(a->t, name, end[1], addr, 0);
}

int kc_ksyms_parse_map(const char *text, size_t len, struct kc_ksyms *t, struct kc_err *err)
{
	struct ksyms_map_arg a = {t, 0};
	int ret = ksyms_each_line(text, len, ksyms_map_line, &a);

	if (ret == -ENOMEM)
		return kc_err_set(err, ret, "out of memory");
	if (ret < 0)
		return kc_err_set(err, -EINVAL, "symbol map: bad line %zu", a.line);
	if (kc_ksyms_sort(t) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}
