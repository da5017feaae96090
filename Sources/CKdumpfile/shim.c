// SPDX-License-Identifier: Apache-2.0
#include "CKdumpfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <libkdumpfile/kdumpfile.h>

struct kho_kdump {
	kdump_ctx_t *ctx;
	kdump_bmp_t *pagemap;
};

static void copy_err(const char *msg, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg ? msg : "unknown error");
}

kho_kdump *kho_kdump_open(int fd, char *err, size_t errlen)
{
	kdump_ctx_t *ctx = kdump_new();
	if (!ctx) {
		copy_err("libkdumpfile could not allocate a context", err, errlen);
		return NULL;
	}
	/* Reads go through in runs, each page once: a small page cache is
	   enough and does not cost a large zeroed allocation per open. */
	kdump_set_number_attr(ctx, "cache.size", 64);
	if (kdump_open_fd(ctx, fd) != KDUMP_OK) {
		copy_err(kdump_get_err(ctx), err, errlen);
		kdump_free(ctx);
		return NULL;
	}
	kho_kdump *k = calloc(1, sizeof(*k));
	if (!k) {
		kdump_free(ctx);
		copy_err("out of memory", err, errlen);
		return NULL;
	}
	k->ctx = ctx;
	kdump_attr_t attr;
	attr.type = KDUMP_BITMAP;  /* the type asked for */
	if (kdump_get_typed_attr(ctx, KDUMP_ATTR_FILE_PAGEMAP, &attr) == KDUMP_OK &&
	    attr.type == KDUMP_BITMAP)
		k->pagemap = attr.val.bitmap;  /* owned by the attribute */
	if (k->pagemap)
		kdump_bmp_incref(k->pagemap);
	return k;
}

void kho_kdump_close(kho_kdump *k)
{
	if (!k)
		return;
	if (k->pagemap)
		kdump_bmp_decref(k->pagemap);
	kdump_free(k->ctx);
	free(k);
}

int kho_kdump_number(kho_kdump *k, const char *key, uint64_t *out)
{
	kdump_attr_t attr;
	if (kdump_get_attr(k->ctx, key, &attr) != KDUMP_OK)
		return 0;
	if (attr.type == KDUMP_NUMBER)
		*out = attr.val.number;
	else if (attr.type == KDUMP_ADDRESS)
		*out = attr.val.address;
	else
		return 0;
	return 1;
}

const char *kho_kdump_string(kho_kdump *k, const char *key)
{
	kdump_attr_t attr;
	if (kdump_get_attr(k->ctx, key, &attr) != KDUMP_OK || attr.type != KDUMP_STRING)
		return NULL;
	return attr.val.string;
}

int kho_kdump_next_run(kho_kdump *k, uint64_t *pfn, uint64_t limit, uint64_t *start, uint64_t *end)
{
	if (!k->pagemap || *pfn >= limit)
		return 0;
	kdump_addr_t idx = *pfn;
	if (kdump_bmp_find_set(k->pagemap, &idx) != KDUMP_OK || idx >= limit)
		return 0;
	*start = idx;
	if (kdump_bmp_find_clear(k->pagemap, &idx) != KDUMP_OK || idx > limit)
		idx = limit;
	*end = idx;
	*pfn = idx;
	return 1;
}

int kho_kdump_read(kho_kdump *k, uint64_t addr, void *buf, size_t len, char *err, size_t errlen)
{
	size_t got = len;
	kdump_status st = kdump_read(k->ctx, KDUMP_MACHPHYSADDR, addr, buf, &got);
	if (st == KDUMP_OK && got == len)
		return 0;
	copy_err(kdump_get_err(k->ctx), err, errlen);
	return st == KDUMP_ERR_NODATA ? 1 : -1;
}
