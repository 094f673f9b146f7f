// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The static repository: files under DIR/repo that agents fetch (signed
 * metadata and blobs), and the OVAL documents under DIR/oval that scanners
 * fetch, served without any database access; small ones from memory in one
 * write, large ones with sendfile.
 */
#include <fcntl.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eportal/http-int.h"
#include "eportal/http-json.h"
#include "eportal/oval.h"

#define SMALL_FILE (256 * 1024) /* repository files read into memory */

/* DIR/PATH (already checked) with @ctype and @cache; -1 in *@size when not sent. */
static enum MHD_Result serve_file(struct kc_httpd *h, struct MHD_Connection *conn, const char *dir,
				  const char *path, const char *ctype, const char *cache,
				  long long *size)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char full[4096];
	struct stat sb;
	int fd;

	*size = -1;
	snprintf(full, sizeof(full), "%s/%s", dir, path);
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return kc_httpd_fail_now(h, conn, 404, "not-found", "no such file");
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return kc_httpd_fail_now(h, conn, 404, "not-found", "no such file");
	}
	if (sb.st_size <= SMALL_FILE) {
		/*
		 * Metadata files are small: one read and a buffer response go out in
		 * one write, where sendfile after the header costs a second packet
		 * (and, with delayed ACKs, milliseconds per request).
		 */
		char *buf = malloc((size_t)sb.st_size + 1);
		ssize_t n = buf ? pread(fd, buf, (size_t)sb.st_size, 0) : -1;
		close(fd);
		if (n != sb.st_size) {
			free(buf);
			return kc_httpd_fail_now(h, conn, 500, "internal-error",
						 "cannot read file");
		}
		resp = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(buf);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd); /* takes @fd */
		if (!resp) {
			close(fd);
			return MHD_NO;
		}
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	atomic_fetch_add(&h->st.status_2xx, 1);
	*size = (long long)sb.st_size;
	return ret;
}

/* GET/HEAD /repo/PATH: a file of the signed repository, with sendfile. */
enum MHD_Result kc_httpd_serve_repo(struct kc_httpd *h, struct MHD_Connection *conn,
				    const char *path)
{
	enum MHD_Result ret;
	long long size;

	atomic_fetch_add(&h->st.repo, 1);
	if (!kc_httpd_repo_path_ok(path))
		return kc_httpd_fail_now(h, conn, 404, "not-found", "no such file");
	int blob = !strncmp(path, "blobs/", 6);
	size_t n = strlen(path);
	/* blobs never change; metadata must be revalidated (timestamp.json above all) */
	ret = serve_file(h, conn, h->ep->repo_dir, path,
			 n > 5 && !strcmp(path + n - 5, ".json") ? "application/json"
								 : "application/octet-stream",
			 blob ? "public, max-age=31536000, immutable" : "no-cache", &size);
	if (size >= 0)
		atomic_fetch_add(&h->st.bytes_repo, size);
	return ret;
}

/* GET/HEAD /oval/NAME: an OVAL document (oval.c), no authentication. */
enum MHD_Result kc_httpd_serve_oval(struct kc_httpd *h, struct MHD_Connection *conn,
				    const char *name)
{
	char dir[4096];
	long long size;
	size_t n =
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	/* one file name, no directories, no hidden or temporary files */
	if (name[n] || n < 5 || n > 160 || name[0] == '.' || strcmp(name + n - 4, ".xml"))
		return kc_httpd_fail_now(h, conn, 404, "not-found", "no such file");
	snprintf(dir, sizeof(dir), "%s/%s", h->ep->dir, KC_EP_OVAL_DIR);
	return serve_file(h, conn, dir, name, "application/xml", "no-cache", &size);
}
