/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skillmeat/error.h"
#include "skillmeat/fs.h"
#include "skillmeat/memory.h"
#include "skillmeat/sha256.h"
#include "skillmeat/strbuf.h"
#include "util/crypto.h"
#include "util/banned.h"

#define HASH_CHUNK ((size_t)64 << 10)

struct sm_sha256 {
	const struct sm_crypto *c;
	EVP_MD_CTX *ctx;
};

int sm_sha256_new(struct sm_sha256 **ret)
{
	const struct sm_crypto *c = sm_crypto();
	struct sm_sha256 *h;

	if (!c)
		return -ELIBACC;
	h = sm_malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->c = c;
	h->ctx = c->md_ctx_new();
	if (!h->ctx) {
		sm_free(h);
		return -ENOMEM;
	}
	if (c->digest_init(h->ctx, c->sha256(), NULL) != 1) {
		sm_sha256_free(h);
		return -EIO;
	}
	*ret = h;
	return 0;
}

int sm_sha256_update(struct sm_sha256 *h, const void *data, size_t len)
{
	if (!len)
		return 0;
	return h->c->digest_update(h->ctx, data, len) == 1 ? 0 : -EIO;
}

static void to_hex(const unsigned char *md, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

int sm_sha256_final_hex(struct sm_sha256 *h, char hex[SM_SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (h->c->digest_final(h->ctx, md, &n) != 1 || n * 2 != SM_SHA256_HEX_LEN)
		return -EIO;
	to_hex(md, n, hex);
	if (h->c->digest_init(h->ctx, h->c->sha256(), NULL) != 1)
		return -EIO;
	return 0;
}

void sm_sha256_free(struct sm_sha256 *h)
{
	if (!h)
		return;
	h->c->md_ctx_free(h->ctx);
	sm_free(h);
}

int sm_sha256_hex(const void *data, size_t len, char hex[SM_SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const struct sm_crypto *c = sm_crypto();

	if (!c)
		return -ELIBACC;
	if (c->digest(len ? data : "", len, md, &n, c->sha256(), NULL) != 1 ||
	    n * 2 != SM_SHA256_HEX_LEN)
		return -EIO;
	to_hex(md, n, hex);
	return 0;
}

/* Feed the file name (openat on dfd, symlinks followed) into h. */
static int hash_file(struct sm_sha256 *h, int dfd, const char *name, const char *shown,
		     unsigned char *buf, struct strbuf *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r = 0;

	if (fd < 0)
		return sm_err(err, -errno, "cannot open '%s': %s", shown, sm_strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf, HASH_CHUNK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = sm_err(err, -errno, "cannot read '%s': %s", shown, sm_strerror(errno));
			break;
		}
		if (n == 0)
			break;
		r = sm_sha256_update(h, buf, (size_t)n);
		if (r < 0) {
			sm_err(err, r, "cannot hash '%s': %s", shown, sm_strerror(r));
			break;
		}
	}
	close(fd);
	return r;
}

static int hash_tree(struct sm_sha256 *h, const char *path, unsigned char *buf, struct strbuf *err)
{
	struct sm_fs_list list = {0};
	struct strbuf shown = STRBUF_INIT;
	size_t i;
	int dfd, r;

	r = sm_fs_walk(path, &list, err);
	if (r < 0)
		return r;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = sm_err(err, -errno, "cannot open folder '%s': %s", path, sm_strerror(errno));
		goto out;
	}
	for (i = 0; i < list.len; i++) {
		const char *rel = list.items[i].rel;

		r = sm_sha256_update(h, rel, strlen(rel));
		if (r < 0) {
			sm_err(err, r, "cannot hash '%s': %s", path, sm_strerror(r));
			break;
		}
		sm_strbuf_reset(&shown);
		if (sm_fs_join(&shown, path, rel) < 0)
			sm_strbuf_reset(&shown);
		r = hash_file(h, dfd, rel, shown.len ? shown.buf : rel, buf, err);
		if (r < 0)
			break;
	}
	close(dfd);
out:
	sm_strbuf_release(&shown);
	sm_fs_list_release(&list);
	return r;
}

int sm_content_hash(const char *path, char hex[SM_SHA256_HEX_LEN + 1], struct strbuf *err)
{
	struct sm_sha256 *h = NULL;
	unsigned char *buf = NULL;
	char out[SM_SHA256_HEX_LEN + 1];
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return sm_err(err, -errno, "cannot hash '%s': %s", path, sm_strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return sm_err(err, -EINVAL, "cannot hash '%s': not a file or folder", path);
	buf = sm_malloc(HASH_CHUNK);
	r = buf ? sm_sha256_new(&h) : -ENOMEM;
	if (r < 0) {
		sm_err(err, r, "cannot hash '%s': %s", path, sm_strerror(r));
		goto out;
	}
	if (S_ISREG(st.st_mode))
		r = hash_file(h, AT_FDCWD, path, path, buf, err);
	else
		r = hash_tree(h, path, buf, err);
	if (r < 0)
		goto out;
	r = sm_sha256_final_hex(h, out);
	if (r < 0) {
		sm_err(err, r, "cannot hash '%s': %s", path, sm_strerror(r));
		goto out;
	}
	memcpy(hex, out, sizeof(out));
out:
	sm_sha256_free(h);
	sm_free(buf);
	return r;
}
