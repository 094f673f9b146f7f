// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading patch regions back from a target process (see region.h). The
 * header is untrusted input here: another process could have mapped
 * anything, so every offset and count is checked before use.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "upatch/region.h"

#define REGION_MAX_FUNCS   4096
#define REGION_MAX_STRINGS (1u << 20)

static bool region_candidate(const struct kc_proc_map *m)
{
	/* our regions are private, anonymous (maybe named "[anon:...]"), start read-only */
	if (m->shared || !(m->prot & PROT_READ) || (m->prot & (PROT_WRITE | PROT_EXEC)))
		return false;
	return m->path[0] == '\0' || strncmp(m->path, "[anon:kcare", 11) == 0;
}

static int region_read_one(uint64_t start, uint64_t map_end, kc_region_read_fn read, void *ctx,
			   struct kc_region *r)
{
	struct kc_region_hdr *h = &r->hdr;
	size_t fsz;

	memset(r, 0, sizeof(*r));
	r->start = start;
	if (map_end - start < sizeof(*h) || read(ctx, start, h, sizeof(*h)) < 0)
		return -ENOENT;
	if (memcmp(h->magic, KC_REGION_MAGIC, 8) != 0 || h->version != KC_REGION_VERSION)
		return -ENOENT;
	if (h->nfuncs > REGION_MAX_FUNCS || h->strings_size == 0 ||
	    h->strings_size > REGION_MAX_STRINGS || h->funcs_off < sizeof(*h) ||
	    h->funcs_off + (uint64_t)h->nfuncs * sizeof(struct kc_region_func) > h->hdr_size ||
	    h->strings_off + (uint64_t)h->strings_size > h->hdr_size ||
	    h->hdr_size > map_end - start || h->build_id_len > sizeof(h->build_id))
		return -EINVAL;
	h->id[sizeof(h->id) - 1] = '\0';
	h->vma_name[sizeof(h->vma_name) - 1] = '\0';
	fsz = h->nfuncs * sizeof(struct kc_region_func);
	r->funcs = calloc(h->nfuncs ? h->nfuncs : 1, sizeof(*r->funcs));
	r->strings = malloc(h->strings_size + 1);
	if (!r->funcs || !r->strings)
		goto fail;
	if ((fsz && read(ctx, start + h->funcs_off, r->funcs, fsz) < 0) ||
	    read(ctx, start + h->strings_off, r->strings, h->strings_size) < 0)
		goto fail;
	r->strings[h->strings_size] = '\0';
	return 0;
fail:
	free(r->funcs);
	free(r->strings);
	r->funcs = NULL;
	r->strings = NULL;
	return -ENOMEM;
}

int kc_region_scan(const struct kc_proc_maps *maps, kc_region_read_fn read, void *ctx,
		   struct kc_regions *out, struct kc_err *err)
{
	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < maps->n; i++) {
		const struct kc_proc_map *m = &maps->v[i];
		struct kc_region r, *v;
		uint64_t end = m->end;

		if (!region_candidate(m))
			continue;
		/* the header may span several read-only pages; the rest are other mappings */
		for (size_t j = i + 1; j < maps->n && maps->v[j].start == end; j++)
			end = maps->v[j].end;
		if (region_read_one(m->start, end, read, ctx, &r) < 0)
			continue;
		v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v) {
			free(r.funcs);
			free(r.strings);
			kc_regions_release(out);
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		out->v = v;
		out->v[out->n++] = r;
	}
	return 0;
}

void kc_regions_release(struct kc_regions *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].funcs);
		free(r->v[i].strings);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

const char *kc_region_str(const struct kc_region *r, uint32_t off)
{
	if (!r->strings || off >= r->hdr.strings_size)
		return "";
	return r->strings + off;
}
