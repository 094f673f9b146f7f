// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The stack safety check of the consistency model: does any frame of a
 * stopped thread execute in, or return into, a range being replaced?
 * Precise walk with libunwind-ptrace, plus a conservative scan of raw stack
 * words for stacks libunwind cannot walk to their end.
 *
 * libunwind's _UPT accessors keep the unwind table of only the last object
 * they looked at, and take one pid. We wrap them: registers come from the
 * thread being checked, memory from /proc/PID/mem, and unwind tables from
 * one _UPT handle per executable mapping, kept for the unwinder's lifetime,
 * so that tables are parsed once per object across calls and threads.
 * Stopping and resuming threads is the caller's job.
 */
#include <elf.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kcare/proc.h"
#include "kcare/unwind.h"
#include "upatch/region.h"

#define UNWIND_MAX_FRAMES  256
#define UNWIND_PAGE	   4096u
#define UNWIND_CACHE_SLOTS 64 /* direct-mapped: 256 KiB per unwinder */

/*
 * A page of target memory. libunwind reads one word at a time, the same
 * words many times over (its binary search of .eh_frame_hdr alone takes
 * dozens of reads per frame), and every read is a syscall inside the stop.
 * Pages of read-only file mappings (code, unwind tables) stay valid until
 * kc_unwind_flush(); others (stacks) only for the walk that read them.
 */
struct unwind_page {
	uint64_t addr; /* page address; valid when data_len == UNWIND_PAGE */
	uint64_t walk; /* the walk it was read in, 0 for a stable page */
	size_t data_len;
	unsigned char data[UNWIND_PAGE];
};

/*
 * The unwind table of one executable file mapping. Preferably the binary
 * search table of the object's .eh_frame_hdr, located through the ELF
 * headers mapped in the target and read through the page cache: no file
 * is opened and nothing is parsed up front. Otherwise (no .eh_frame_hdr,
 * an unusual encoding) a _UPT handle, which maps the object's file.
 */
struct unwind_table {
	uint64_t start, end;
	bool remote; /* di is usable */
	bool region; /* patch code: its table is in the region (patchfmt.h), no file */
	/* which region it was (a later one may take the same addresses), checked once per walk */
	struct unwind_region_key {
		char id[64];
		uint64_t region_size, hdr_size;
		uint32_t level, unwind_off, unwind_size, owner_pid;
	} key;
	uint64_t checked_walk;
	unw_dyn_info_t di; /* UNW_INFO_FORMAT_REMOTE_TABLE */
	void *upt;	   /* fallback, created on first need */
};

/* Exported by libunwind (libunwind-ptrace's own lookup uses it) but not declared in its headers. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

struct kc_unwinder {
	pid_t pid;
	pid_t mm_tid;		   /* reaches the address space (see kc_proc_mm_tid()) */
	int memfd;		   /* /proc/PID/mem, -1 if it could not be opened */
	struct unwind_page *cache; /* UNWIND_CACHE_SLOTS pages, NULL if no memory */
	uint64_t walk;		   /* counts kc_unwind_check() calls, from 1 */
	unw_addr_space_t as;
	struct kc_proc_maps maps; /* snapshot used to pick the table handle; refreshed on a miss */
	bool maps_fresh;	  /* read since the last miss/flush */
	struct unwind_table *tables;
	size_t ntables;
	void *upt_any; /* for addresses outside file mappings */
};

/* The check in progress: libunwind passes its own arg around, so accessors use this instead. */
struct unwind_call {
	struct kc_unwinder *u;
	void *upt_tid; /* registers of the thread being walked */
};

static __thread struct unwind_call *unwind_cur;

static int unwind_maps_refresh(struct kc_unwinder *u)
{
	struct kc_proc_maps maps;
	int ret = kc_proc_maps_read(u->pid, &maps, NULL);

	if (ret)
		return ret;
	kc_proc_maps_release(&u->maps);
	u->maps = maps;
	u->maps_fresh = true;
	return 0;
}

static const struct unwind_page *unwind_page_of(struct kc_unwinder *u, uint64_t addr);

/* Copies @len bytes of target memory through the page cache; false if any is unreadable. */
static bool unwind_read(struct kc_unwinder *u, uint64_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;

	while (len) {
		uint64_t page = addr & ~(uint64_t)(UNWIND_PAGE - 1);
		size_t n = UNWIND_PAGE - (size_t)(addr - page);
		const struct unwind_page *pg = unwind_page_of(u, page);

		if (!pg)
			return false;
		if (n > len)
			n = len;
		memcpy(out, pg->data + (addr - page), n);
		out += n;
		addr += n;
		len -= n;
	}
	return true;
}

static bool unwind_eh_hdr(struct kc_unwinder *u, uint64_t hdr, uint64_t lo, uint64_t hi,
			  unw_dyn_info_t *di);

/*
 * Locates the .eh_frame_hdr search table of the object that @m (an
 * executable mapping) belongs to, from the ELF and program headers that
 * its first mapping (offset 0) holds in memory.
 */
static bool unwind_remote_table(struct kc_unwinder *u, const struct kc_proc_map *m,
				unw_dyn_info_t *di)
{
	const struct kc_proc_map *base = NULL;
	uint64_t bias = 0, hdr = 0;
	bool have_load = false;
	Elf64_Ehdr e;

	for (const struct kc_proc_map *x = m; x >= u->maps.v && !base; x--)
		if (x->offset == 0 && x->inode == m->inode && x->dev_major == m->dev_major &&
		    x->dev_minor == m->dev_minor && !strcmp(x->path, m->path))
			base = x;
	if (!base || !unwind_read(u, base->start, &e, sizeof(e)) ||
	    memcmp(e.e_ident, ELFMAG, SELFMAG) || e.e_ident[EI_CLASS] != ELFCLASS64 ||
	    e.e_phentsize != sizeof(Elf64_Phdr) || e.e_phnum == 0 || e.e_phnum > 64)
		return false;
	for (unsigned i = 0; i < e.e_phnum; i++) {
		Elf64_Phdr ph;

		if (!unwind_read(u, base->start + e.e_phoff + i * sizeof(ph), &ph, sizeof(ph)))
			return false;
		if (ph.p_type == PT_LOAD && ph.p_offset == 0 && !have_load) {
			bias = base->start - (ph.p_vaddr & ~(uint64_t)(UNWIND_PAGE - 1));
			have_load = true;
		} else if (ph.p_type == PT_GNU_EH_FRAME) {
			hdr = ph.p_vaddr;
		}
	}
	if (!have_load || !hdr)
		return false;
	return unwind_eh_hdr(u, hdr + bias, m->start, m->end, di);
}

/* The search table at @hdr, for code in [lo, hi): checked as the one in an object's headers. */
static bool unwind_eh_hdr(struct kc_unwinder *u, uint64_t hdr, uint64_t lo, uint64_t hi,
			  unw_dyn_info_t *di)
{
	unsigned char eh[4];
	uint32_t count;

	/* version 1; a 4-byte .eh_frame pointer; udata4 count; datarel sdata4 table */
	if (!unwind_read(u, hdr, eh, sizeof(eh)) || eh[0] != 1 ||
	    ((eh[1] & 0x0f) != 0x03 && (eh[1] & 0x0f) != 0x0b) || eh[2] != 0x03 || eh[3] != 0x3b ||
	    !unwind_read(u, hdr + 8, &count, sizeof(count)) || count == 0)
		return false;
	memset(di, 0, sizeof(*di));
	di->start_ip = lo;
	di->end_ip = hi;
	di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di->u.rti.segbase = hdr;
	di->u.rti.table_data = hdr + 12;
	di->u.rti.table_len = (uint64_t)count * 8 / sizeof(unw_word_t);
	return true;
}

/*
 * The unwind table of patch code: @m is the text of a patch region, whose
 * header (region.h) is the read-only mapping right below it and says where
 * in the image the packed table is (patchfmt.h). Regions of patches
 * without one (format version 1) have none.
 */
static bool unwind_region_table(struct kc_unwinder *u, const struct kc_proc_map *m,
				unw_dyn_info_t *di, struct unwind_region_key *key)
{
	const struct kc_proc_map *x = m - 1;
	struct kc_region_hdr h;

	memset(key, 0, sizeof(*key));
	if (m == u->maps.v || x->end != m->start || !(m->prot & PROT_EXEC) || m->shared ||
	    x->shared || (x->prot & (PROT_WRITE | PROT_EXEC)))
		return false;
	if (!unwind_read(u, x->start, &h, sizeof(h)) || memcmp(h.magic, KC_REGION_MAGIC, 8) ||
	    h.version != KC_REGION_VERSION || x->start + h.hdr_size != m->start || !h.unwind_size ||
	    h.text_size > m->end - m->start ||
	    (uint64_t)h.unwind_off + h.unwind_size > h.image_size)
		return false;
	memcpy(key->id, h.id, sizeof(key->id));
	key->region_size = h.region_size;
	key->hdr_size = h.hdr_size;
	key->level = h.level;
	key->unwind_off = h.unwind_off;
	key->unwind_size = h.unwind_size;
	key->owner_pid = h.owner_pid;
	return unwind_eh_hdr(u, m->start + h.unwind_off, m->start, m->start + h.text_size, di);
}

/* The table covering @ip's mapping (set up on first use), NULL outside file mappings and patches.
 */
static struct unwind_table *unwind_table_for(struct kc_unwinder *u, uint64_t ip)
{
	const struct kc_proc_map *m = kc_proc_maps_find(&u->maps, ip);
	struct unwind_table *nv;

	if (!m && !u->maps_fresh && unwind_maps_refresh(u) == 0)
		m = kc_proc_maps_find(&u->maps, ip);
	if (!m || (m->path[0] != '/' && m->path[0] != '\0' && strncmp(m->path, "[anon:", 6)))
		return NULL;
	for (size_t i = 0; i < u->ntables; i++) {
		struct unwind_table *t = &u->tables[i];
		struct unwind_region_key key;
		unw_dyn_info_t di;
		bool remote;

		if (t->start != m->start || t->end != m->end)
			continue;
		if (!t->region || t->checked_walk == u->walk)
			return t;
		/* other patch code at the same place: its table, and nothing libunwind cached */
		t->checked_walk = u->walk;
		remote = unwind_region_table(u, m, &di, &key);
		if (remote != t->remote || memcmp(&key, &t->key, sizeof(key))) {
			t->remote = remote;
			t->di = di;
			t->key = key;
			unw_flush_cache(u->as, 0, 0);
		}
		return t;
	}
	nv = reallocarray(u->tables, u->ntables + 1, sizeof(*nv));
	if (!nv)
		return NULL;
	u->tables = nv;
	nv = &u->tables[u->ntables++];
	memset(nv, 0, sizeof(*nv));
	nv->start = m->start;
	nv->end = m->end;
	nv->region = m->path[0] != '/';
	nv->checked_walk = u->walk;
	nv->remote = nv->region ? unwind_region_table(u, m, &nv->di, &nv->key)
				: unwind_remote_table(u, m, &nv->di);
	return nv;
}

static int unwind_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				 int need_unwind_info, void *arg)
{
	struct kc_unwinder *u = unwind_cur->u;
	struct unwind_table *t = unwind_table_for(u, ip);

	(void)arg;
	if (t && t->remote)
		return _Ux86_64_dwarf_search_unwind_table(as, ip, &t->di, pi, need_unwind_info,
							  NULL);
	if (t && !t->upt && !t->region)
		t->upt = _UPT_create(u->pid);
	return _UPT_find_proc_info(as, ip, pi, need_unwind_info, t && t->upt ? t->upt : u->upt_any);
}

static void unwind_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)arg;
	_UPT_put_unwind_info(as, pi, unwind_cur->u->upt_any);
}

static int unwind_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dilap, void *arg)
{
	(void)arg;
	return _UPT_get_dyn_info_list_addr(as, dilap, unwind_cur->u->upt_any);
}

/* The cached page holding [addr, addr + 8), read on a miss; NULL if it cannot be cached. */
static const struct unwind_page *unwind_page_of(struct kc_unwinder *u, uint64_t addr)
{
	uint64_t page = addr & ~(uint64_t)(UNWIND_PAGE - 1);
	struct unwind_page *pg;
	const struct kc_proc_map *m;
	struct iovec local, remote;

	if (!u->cache || addr - page > UNWIND_PAGE - sizeof(unw_word_t))
		return NULL;
	pg = &u->cache[(page / UNWIND_PAGE) % UNWIND_CACHE_SLOTS];
	if (pg->data_len == UNWIND_PAGE && pg->addr == page && (!pg->walk || pg->walk == u->walk))
		return pg;
	pg->data_len = 0;
	local = (struct iovec){pg->data, UNWIND_PAGE};
	remote = (struct iovec){(void *)(uintptr_t)page, UNWIND_PAGE};
	if (process_vm_readv(u->mm_tid, &local, 1, &remote, 1, 0) != (ssize_t)UNWIND_PAGE)
		return NULL;
	m = kc_proc_maps_find(&u->maps, page);
	pg->addr = page;
	pg->walk = m && m->path[0] == '/' && !(m->prot & PROT_WRITE) && !m->shared ? 0 : u->walk;
	pg->data_len = UNWIND_PAGE;
	return pg;
}

static int unwind_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			     void *arg)
{
	struct kc_unwinder *u = unwind_cur->u;
	const struct unwind_page *pg;

	(void)arg;
	if (write)
		return -UNW_EINVAL; /* the check never writes to the target */
	pg = unwind_page_of(u, addr);
	if (pg) {
		memcpy(val, pg->data + (addr - pg->addr), sizeof(*val));
		return 0;
	}
	if (u->memfd >= 0 && pread(u->memfd, val, sizeof(*val), (off_t)addr) == sizeof(*val))
		return 0;
	return _UPT_access_mem(as, addr, val, write, unwind_cur->upt_tid);
}

static int unwind_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
			     void *arg)
{
	(void)arg;
	if (write)
		return -UNW_EINVAL;
	return _UPT_access_reg(as, reg, val, write, unwind_cur->upt_tid);
}

static int unwind_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			       void *arg)
{
	(void)arg;
	if (write)
		return -UNW_EINVAL;
	return _UPT_access_fpreg(as, reg, val, write, unwind_cur->upt_tid);
}

static int unwind_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL; /* never resume the target from here */
}

static int unwind_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
				unw_word_t *offp, void *arg)
{
	(void)arg;
	return _UPT_get_proc_name(as, addr, buf, len, offp, unwind_cur->upt_tid);
}

static unw_accessors_t unwind_accessors = {
    .find_proc_info = unwind_find_proc_info,
    .put_unwind_info = unwind_put_unwind_info,
    .get_dyn_info_list_addr = unwind_get_dyn_info_list_addr,
    .access_mem = unwind_access_mem,
    .access_reg = unwind_access_reg,
    .access_fpreg = unwind_access_fpreg,
    .resume = unwind_resume,
    .get_proc_name = unwind_get_proc_name,
};

struct kc_unwinder *kc_unwind_new(pid_t pid, struct kc_err *err)
{
	struct kc_unwinder *u = calloc(1, sizeof(*u));
	char path[64];
	int ret;

	if (!u) {
		kc_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	u->pid = pid;
	ret = kc_proc_maps_read(pid, &u->maps, err);
	if (ret)
		goto fail;
	u->mm_tid = u->maps.tid;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)u->mm_tid);
	u->memfd = open(path, O_RDONLY | O_CLOEXEC);
	u->cache = calloc(UNWIND_CACHE_SLOTS, sizeof(*u->cache)); /* optional */
	u->upt_any = _UPT_create(pid);
	u->as = unw_create_addr_space(&unwind_accessors, 0);
	if (!u->upt_any || !u->as) {
		kc_err_set(err, -ENOMEM, "cannot create unwinder for process %d", (int)pid);
		goto fail;
	}
	/* Cache register-state per ip across walks; kc_unwind_flush() drops it. */
	unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	return u;
fail:
	kc_unwind_free(u);
	return NULL;
}

void kc_unwind_warm(struct kc_unwinder *u, uint64_t ip)
{
	struct unwind_call call = {.u = u, .upt_tid = u->upt_any};
	struct unwind_call *saved = unwind_cur;
	unw_proc_info_t pi;

	unwind_cur = &call;
	memset(&pi, 0, sizeof(pi));
	/* loads the object's image and table whether or not @ip has an FDE */
	if (unwind_find_proc_info(u->as, ip, &pi, 0, NULL) == 0)
		unwind_put_unwind_info(u->as, &pi, NULL);
	unwind_cur = saved;
}

void kc_unwind_flush(struct kc_unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->ntables; i++)
		if (u->tables[i].upt)
			_UPT_destroy(u->tables[i].upt);
	free(u->tables);
	u->tables = NULL;
	u->ntables = 0;
	if (u->as)
		unw_flush_cache(u->as, 0, 0);
	for (size_t i = 0; u->cache && i < UNWIND_CACHE_SLOTS; i++)
		u->cache[i].data_len = 0;
	u->maps_fresh = false;
	unwind_maps_refresh(u);
}

void kc_unwind_free(struct kc_unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->ntables; i++)
		if (u->tables[i].upt)
			_UPT_destroy(u->tables[i].upt);
	free(u->tables);
	if (u->upt_any)
		_UPT_destroy(u->upt_any);
	if (u->as)
		unw_destroy_addr_space(u->as);
	kc_proc_maps_release(&u->maps);
	if (u->memfd >= 0)
		close(u->memfd);
	free(u->cache);
	free(u);
}

static bool unwind_in_ranges(uint64_t addr, const struct kc_range *ranges, size_t nranges)
{
	for (size_t i = 0; i < nranges; i++)
		if (addr >= ranges[i].lo && addr < ranges[i].hi)
			return true;
	return false;
}

/*
 * A pc that was interrupted (not a return address) in a range: a pc exactly
 * on an entry the jump replaces has not begun that code, so it is not busy.
 */
static bool unwind_pc_in_ranges(uint64_t pc, const struct kc_range *ranges, size_t nranges,
				const uint64_t *entries, size_t nentries)
{
	for (size_t i = 0; i < nentries; i++)
		if (pc == entries[i])
			return false;
	return unwind_in_ranges(pc, ranges, nranges);
}

int kc_unwind_check(struct kc_unwinder *u, pid_t tid, const struct kc_range *ranges, size_t nranges,
		    uint64_t *hit, struct kc_err *err)
{
	return kc_unwind_check_leave(u, tid, ranges, nranges, NULL, 0, hit, NULL, NULL, err);
}

int kc_unwind_check_leave(struct kc_unwinder *u, pid_t tid, const struct kc_range *ranges,
			  size_t nranges, const uint64_t *entries, size_t nentries, uint64_t *hit,
			  uint64_t *leave_sp, uint64_t *leave_ret, struct kc_err *err)
{
	struct unwind_call call = {.u = u};
	struct unwind_call *saved = unwind_cur;
	bool caller = false, busy = false, in_range = false;
	struct kc_err first = KC_ERR_INIT;
	unw_cursor_t c;
	int ret, step;

	if (leave_sp)
		*leave_sp = *leave_ret = 0;
	call.upt_tid = _UPT_create(tid);
	if (!call.upt_tid)
		return kc_err_set(err, -ENOMEM, "out of memory");
	unwind_cur = &call;
	u->maps_fresh = false; /* one refresh allowed per walk */
	u->walk++;	       /* stack pages read before are stale */
	ret = unw_init_remote(&c, u->as, call.upt_tid);
	if (ret < 0) {
		ret = kc_err_set(err, -EINVAL, "cannot start unwinding thread %d: %s", (int)tid,
				 unw_strerror(ret));
		goto out;
	}
	for (int frame = 0; frame < UNWIND_MAX_FRAMES; frame++) {
		unw_word_t ip, sp;

		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0) {
			ret = kc_err_set(err, -EINVAL, "thread %d: cannot read pc of frame %d",
					 (int)tid, frame);
			goto out;
		}
		/* the frame below was in a range: this one's sp is where it returns to */
		if (in_range && leave_sp && unw_get_reg(&c, UNW_REG_SP, &sp) == 0) {
			*leave_sp = sp;
			*leave_ret = ip;
		}
		/*
		 * A return address is the instruction after the call: the call site is ip-1,
		 * and ip itself is where execution resumes. Test both.
		 */
		in_range = caller ? unwind_in_ranges(ip, ranges, nranges) ||
					(ip && unwind_in_ranges(ip - 1, ranges, nranges))
				  : unwind_pc_in_ranges(ip, ranges, nranges, entries, nentries);
		if (in_range && !busy) {
			busy = true;
			*hit = ip;
			kc_err_set(&first, -EBUSY,
				   "thread %d: frame %d at %#llx is in a patched range", (int)tid,
				   frame, (unsigned long long)ip);
			/* where it leaves the outermost such frame is only wanted for driving it
			 * out */
			if (!leave_sp)
				goto out;
		}
		/* Above a signal frame the pc was interrupted, not called from: exact test. */
		caller = unw_is_signal_frame(&c) <= 0;
		step = unw_step(&c);
		if (step == 0) {
			ret = 0;
			goto out;
		}
		if (step < 0) {
			ret =
			    kc_err_set(err, -EINVAL, "thread %d: unwinding stopped at frame %d: %s",
				       (int)tid, frame, unw_strerror(step));
			goto out;
		}
	}
	ret =
	    kc_err_set(err, -EINVAL, "thread %d: more than %d frames", (int)tid, UNWIND_MAX_FRAMES);
out:
	if (busy) {
		/* an outer frame that could not be walked may be in a range, too */
		if (ret < 0 && leave_sp)
			*leave_sp = *leave_ret = 0;
		if (in_range && leave_sp)
			*leave_sp = *leave_ret =
			    0; /* the outermost frame is in a range: it never returns */
		ret = -EBUSY;
		if (err)
			*err = first;
	}
	unwind_cur = saved;
	_UPT_destroy(call.upt_tid);
	return ret;
}

int kc_unwind_scan(pid_t tid, uint64_t pc, uint64_t sp, uint64_t stack_end, kc_mem_read_fn read,
		   void *ctx, const struct kc_range *ranges, size_t nranges, uint64_t *hit,
		   struct kc_err *err)
{
	uint64_t buf[512];
	uint64_t addr = sp & ~(uint64_t)7;

	if (unwind_in_ranges(pc, ranges, nranges)) {
		*hit = pc;
		return kc_err_set(err, -EBUSY, "thread %d: pc %#llx is in a patched range",
				  (int)tid, (unsigned long long)pc);
	}
	while (addr < stack_end) {
		size_t n = (size_t)((stack_end - addr) / 8);
		int ret;

		if (n == 0)
			break;
		if (n > sizeof(buf) / 8)
			n = sizeof(buf) / 8;
		ret = read(ctx, addr, buf, n * 8);
		if (ret)
			return kc_err_set(err, ret, "thread %d: cannot read stack at %#llx",
					  (int)tid, (unsigned long long)addr);
		for (size_t i = 0; i < n; i++) {
			/* A saved return address points after its call: also test word-1. */
			if (unwind_in_ranges(buf[i], ranges, nranges) ||
			    (buf[i] && unwind_in_ranges(buf[i] - 1, ranges, nranges))) {
				*hit = buf[i];
				return kc_err_set(
				    err, -EBUSY,
				    "thread %d: stack word at %#llx points into a patched range",
				    (int)tid, (unsigned long long)(addr + i * 8));
			}
		}
		addr += n * 8;
	}
	return 0;
}
