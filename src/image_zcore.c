/* image_zcore.c: compressed cores (zstd, xz, lz4 frame, gzip), recognised by
 * their magic bytes, never by the file name.
 *
 * systemd-coredump stores cores compressed (zstd by default), and people
 * ship cores as core.xz / core.gz / core.lz4.  The stream is decompressed in
 * one pass into a private anonymous mapping (nothing is written to disk): the
 * mapping is reserved with MAP_NORESERVE and grown with mremap, which moves
 * page tables instead of copying bytes, then shrunk to the decompressed size
 * and made read-only.  The caller then treats it exactly like an mmapped
 * core, except that its pages cannot be dropped and re-read (image.c knows,
 * through img->core_anon).
 *
 * A compressed stream is hostile input like the core itself: the output is
 * bounded by the machine's physical memory (a core that does not fit cannot
 * be read from memory anyway; the message says to decompress it to a file),
 * and a stream that ends early or does not decode is one line, ERR_INPUT.
 */
#include "image_priv.h"

#include <errno.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum zkind { Z_NONE, Z_ZSTD, Z_XZ, Z_LZ4, Z_GZIP };

static const char *const ZNAMES[] = {"none", "zstd", "xz", "lz4", "gzip"};

static enum zkind zkind_of(const uint8_t *p, uint64_t n)
{
	static const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd}, xz[] = {0xfd, '7', 'z', 'X', 'Z', 0},
			     lz4[] = {0x04, 0x22, 0x4d, 0x18}, gz[] = {0x1f, 0x8b};
	if (n >= sizeof zstd && memcmp(p, zstd, sizeof zstd) == 0)
		return Z_ZSTD;
	if (n >= sizeof xz && memcmp(p, xz, sizeof xz) == 0)
		return Z_XZ;
	if (n >= sizeof lz4 && memcmp(p, lz4, sizeof lz4) == 0)
		return Z_LZ4;
	if (n >= sizeof gz && memcmp(p, gz, sizeof gz) == 0)
		return Z_GZIP;
	return Z_NONE;
}

const char *image_zcore_kind(const uint8_t *p, uint64_t n)
{
	enum zkind k = zkind_of(p, n);
	return k == Z_NONE ? NULL : ZNAMES[k];
}

/* The growing output: [buf, buf + len) written, cap reserved. */
struct zout {
	uint8_t *buf;
	size_t len, cap, limit;
};

/* Room for at least one more byte: doubles the reservation (mremap moves the
 * pages, it does not copy them).  False when the limit is reached or the
 * kernel refuses. */
static bool zout_grow(struct zout *o)
{
	if (o->len < o->cap)
		return true;
	if (o->cap >= o->limit)
		return false;
	size_t ncap = o->cap ? (o->cap > o->limit / 2 ? o->limit : o->cap * 2) : ((size_t)64 << 20);
	if (ncap > o->limit)
		ncap = o->limit;
	void *p = o->buf ? mremap(o->buf, o->cap, ncap, MREMAP_MAYMOVE)
			 : mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	/* Huge pages: a 2 MiB fault instead of 512 small ones for every part
	 * of a core that size (the THP default is often "madvise"). */
	madvise(p, ncap, MADV_HUGEPAGE);
	o->buf = p;
	o->cap = ncap;
	return true;
}

/* Each decoder: consumes [in, in + n) into o.  0, or a short reason. */
static const char *unzstd(const uint8_t *in, size_t n, struct zout *o)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	const char *why = NULL;
	size_t last = 0;
	if (!z)
		return "out of memory";
	ZSTD_inBuffer ib = {in, n, 0};
	while (!why && ib.pos < ib.size) {
		if (!zout_grow(o)) {
			why = "";
			break;
		}
		ZSTD_outBuffer ob = {o->buf + o->len, o->cap - o->len, 0};
		last = ZSTD_decompressStream(z, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(last))
			why = ZSTD_getErrorName(last);
		else if (ob.pos == 0 && ib.pos == ib.size)
			break;
	}
	/* A frame's end is reported as 0; anything else left means more input
	 * was expected.  Flush what the decoder still holds first. */
	while (!why && last != 0) {
		if (!zout_grow(o)) {
			why = "";
			break;
		}
		ZSTD_outBuffer ob = {o->buf + o->len, o->cap - o->len, 0};
		last = ZSTD_decompressStream(z, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(last))
			why = ZSTD_getErrorName(last);
		else if (ob.pos == 0 && last != 0)
			why = "the stream ends in the middle of a frame (truncated)";
	}
	ZSTD_freeDStream(z);
	return why;
}

static const char *unxz(const uint8_t *in, size_t n, struct zout *o)
{
	lzma_stream z = LZMA_STREAM_INIT;
	const char *why = NULL;
	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return "out of memory";
	z.next_in = in;
	z.avail_in = n;
	for (;;) {
		if (!zout_grow(o)) {
			why = "";
			break;
		}
		z.next_out = o->buf + o->len;
		z.avail_out = o->cap - o->len;
		lzma_ret r = lzma_code(&z, LZMA_FINISH);
		o->len = (size_t)(z.next_out - o->buf);
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK)
			continue;
		why = r == LZMA_BUF_ERROR ? "the stream ends early (truncated)"
		    : r == LZMA_DATA_ERROR ? "corrupt data"
		    : r == LZMA_FORMAT_ERROR ? "not an xz stream" : "cannot be decoded";
		break;
	}
	lzma_end(&z);
	return why;
}

static const char *unlz4(const uint8_t *in, size_t n, struct zout *o)
{
	LZ4F_dctx *z;
	const char *why = NULL;
	size_t hint = 1;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
		return "out of memory";
	size_t pos = 0;
	while (!why && pos < n) {
		if (!zout_grow(o)) {
			why = "";
			break;
		}
		size_t src = n - pos, dst = o->cap - o->len;
		hint = LZ4F_decompress(z, o->buf + o->len, &dst, in + pos, &src, NULL);
		o->len += dst;
		pos += src;
		if (LZ4F_isError(hint))
			why = LZ4F_getErrorName(hint);
		else if (src == 0 && dst == 0)
			why = "the decoder made no progress";
	}
	/* hint 0: the last frame ended; otherwise input was still expected.
	 * Output may still be held when the buffer filled up exactly. */
	while (!why && hint != 0) {
		if (!zout_grow(o)) {
			why = "";
			break;
		}
		size_t src = 0, dst = o->cap - o->len;
		hint = LZ4F_decompress(z, o->buf + o->len, &dst, in + n, &src, NULL);
		o->len += dst;
		if (LZ4F_isError(hint))
			why = LZ4F_getErrorName(hint);
		else if (dst == 0 && hint != 0)
			why = "the stream ends in the middle of a frame (truncated)";
	}
	LZ4F_freeDecompressionContext(z);
	return why;
}

static const char *ungzip(const uint8_t *in, size_t n, struct zout *o)
{
	z_stream z;
	const char *why = NULL;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return "out of memory";
	size_t pos = 0;
	while (!why) {
		if (!zout_grow(o)) {
			why = "";
			break;
		}
		/* zlib counts in uInt: feed and drain at most 1 GiB at a time. */
		size_t ain = n - pos > (1u << 30) ? (1u << 30) : n - pos;
		size_t aout = o->cap - o->len > (1u << 30) ? (1u << 30) : o->cap - o->len;
		z.next_in = (Bytef *)(uintptr_t)(in + pos);
		z.avail_in = (uInt)ain;
		z.next_out = o->buf + o->len;
		z.avail_out = (uInt)aout;
		int r = inflate(&z, Z_NO_FLUSH);
		pos += ain - z.avail_in;
		o->len += aout - z.avail_out;
		if (r == Z_STREAM_END) {
			if (pos >= n)
				break;
			inflateReset(&z);   /* another member follows (gzip -c a b > c) */
			continue;
		}
		if (r == Z_OK)
			continue;
		/* Z_BUF_ERROR with output room: no progress, so input is missing */
		why = r == Z_BUF_ERROR && pos >= n ? "the stream ends early (truncated)"
		    : z.msg ? z.msg : "corrupt data";
	}
	inflateEnd(&z);
	return why;
}

int image_zcore_decompress(const char *path, const uint8_t *in, uint64_t n, const uint8_t **out,
			   uint64_t *out_size, struct err *e)
{
	enum zkind k = zkind_of(in, n);
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	struct zout o = {.limit = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : (size_t)1 << 36};
	const char *why = k == Z_ZSTD ? unzstd(in, (size_t)n, &o)
			: k == Z_XZ   ? unxz(in, (size_t)n, &o)
			: k == Z_LZ4  ? unlz4(in, (size_t)n, &o)
				      : ungzip(in, (size_t)n, &o);
	*out = NULL;
	*out_size = 0;
	if (why || o.len == 0) {
		if (o.buf)
			munmap(o.buf, o.cap);
		if (why && !*why)
			return err_set(e, ERR_INPUT,
				       "%s: the %s core does not fit in memory (%zu bytes decompressed so far, limit %zu); "
				       "decompress it to a file (%s -d) and pass that", path, ZNAMES[k], o.len, o.limit,
				       k == Z_GZIP ? "gzip" : ZNAMES[k]);
		return err_set(e, ERR_INPUT, "%s: the %s-compressed core cannot be decompressed: %s; re-copy the core",
			       path, ZNAMES[k], why ? why : "it is empty");
	}
	size_t keep = (o.len + (size_t)psz - 1) / (size_t)psz * (size_t)psz;
	if (keep < o.cap) {
		void *p = mremap(o.buf, o.cap, keep, 0);
		if (p != MAP_FAILED)
			o.buf = p;
		else
			munmap(o.buf + keep, o.cap - keep);
	}
	mprotect(o.buf, keep, PROT_READ);
	*out = o.buf;
	*out_size = o.len;
	return 0;
}
