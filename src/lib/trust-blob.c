// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Patch blobs: content-addressed storage on the server side
 * (blobs/<sha256 hex>, written once, never changed) and, on the client
 * side, the check of a downloaded blob against the entry of a verified
 * feed file. Blobs themselves are opaque here.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kcare/conf.h"
#include "trust-int.h"

int kc_trust_blob_put(const char *dir, const void *buf, size_t len, struct kc_trust_target *t,
		      char *path_buf, struct kc_err *err)
{
	char hex[2 * KC_TRUST_SHA256_BYTES + 1], sub[PATH_MAX], path[PATH_MAX];
	unsigned char sha[KC_TRUST_SHA256_BYTES];
	struct stat st;
	int rc;

	kc_trust_sha256(buf, len, sha);
	kc_trust_sha256_hex(sha, hex);
	if ((size_t)snprintf(sub, sizeof(sub), "%s/blobs", dir) >= sizeof(sub) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", sub, hex) >= sizeof(path))
		return kc_err_set(err, -ENAMETOOLONG, "path too long '%s'", dir);
	rc = kc_trust_mkdirs(sub, 0755, err);
	if (rc)
		return rc;
	/* same name, same content: a blob already there is only checked for its size */
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len) {
		rc = kc_file_write_atomic(path, buf, len, 0644, err);
		if (rc)
			return rc;
	}
	snprintf(path_buf, KC_TRUST_PATH_MAX + 1, "blobs/%s", hex);
	t->path = path_buf;
	t->length = len;
	memcpy(t->sha256, sha, sizeof(sha));
	return 0;
}

static int compare(const struct kc_trust_target *t, uint64_t len,
		   const unsigned char sha[KC_TRUST_SHA256_BYTES], struct kc_err *err)
{
	char want[2 * KC_TRUST_SHA256_BYTES + 1], got[2 * KC_TRUST_SHA256_BYTES + 1];

	if (len != t->length)
		return kc_err_set(err, -EILSEQ, "blob '%s' has %llu bytes, the feed lists %llu",
				  t->path, (unsigned long long)len, (unsigned long long)t->length);
	if (sodium_memcmp(sha, t->sha256, KC_TRUST_SHA256_BYTES) != 0)
		return kc_err_set(err, -EILSEQ, "blob '%s' has sha256 %s, the feed lists %s",
				  t->path, kc_trust_sha256_hex(sha, got),
				  kc_trust_sha256_hex(t->sha256, want));
	return 0;
}

int kc_trust_target_verify(const struct kc_trust_target *t, const void *buf, size_t len,
			   struct kc_err *err)
{
	unsigned char sha[KC_TRUST_SHA256_BYTES];

	kc_trust_sha256(buf, len, sha);
	return compare(t, len, sha, err);
}

int kc_trust_target_verify_fd(const struct kc_trust_target *t, int fd, struct kc_err *err)
{
	crypto_hash_sha256_state st;
	unsigned char chunk[65536], sha[KC_TRUST_SHA256_BYTES];
	uint64_t total = 0;

	crypto_hash_sha256_init(&st);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kc_err_set(err, -errno, "blob '%s': read failed: %m", t->path);
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		/* no need to hash past the listed length: it is a mismatch already */
		if (total > t->length)
			return kc_err_set(err, -EILSEQ,
					  "blob '%s' is longer than the %llu bytes listed", t->path,
					  (unsigned long long)t->length);
		crypto_hash_sha256_update(&st, chunk, (size_t)n);
	}
	crypto_hash_sha256_final(&st, sha);
	return compare(t, total, sha, err);
}

int kc_trust_client_fetch_target(kc_trust_fetch_fn fetch, void *ctx,
				 const struct kc_trust_target *t, unsigned char **buf, size_t *len,
				 struct kc_err *err)
{
	unsigned char *data = NULL;
	size_t n = 0;
	int rc;

	if (!kc_trust_path_ok(t->path))
		return kc_err_set(err, -EBADMSG, "bad target path '%s'", t->path);
	if (t->length > SIZE_MAX)
		return kc_err_set(err, -EFBIG, "blob '%s' is too large", t->path);
	rc = fetch(ctx, t->path, (size_t)t->length, &data, &n, err);
	if (rc == -EFBIG)
		return kc_err_set(err, rc, "blob '%s' is longer than the %llu bytes listed",
				  t->path, (unsigned long long)t->length);
	if (rc)
		return kc_err_prefix(err, "cannot fetch '%s'", t->path);
	if (n > t->length) {
		free(data);
		return kc_err_set(err, -EFBIG, "blob '%s' is longer than the %llu bytes listed",
				  t->path, (unsigned long long)t->length);
	}
	rc = kc_trust_target_verify(t, data, n, err);
	if (rc) {
		free(data);
		return rc;
	}
	*buf = data;
	*len = n;
	return 0;
}

int kc_trust_client_cache_target(kc_trust_fetch_fn fetch, void *ctx,
				 const struct kc_trust_target *t, const char *path,
				 struct kc_err *err)
{
	unsigned char *buf = NULL;
	size_t len;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ret = kc_trust_target_verify_fd(t, fd, NULL);
		close(fd);
		if (ret == 0)
			return 0;
		unlink(path);
	}
	ret = kc_trust_client_fetch_target(fetch, ctx, t, &buf, &len, err);
	if (ret < 0)
		return ret;
	ret = kc_file_write_atomic(path, buf, len, 0600, err);
	free(buf);
	return ret;
}
