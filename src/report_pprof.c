/* report_pprof.c: a profile as pprof's profile.proto, gzip-compressed
 * (include/report.h), for `go tool pprof`, Pyroscope/Grafana and speedscope.
 *
 * Why a small encoder of our own rather than protobuf-c: the tool only
 * writes, never parses, one fixed message type; profile.proto needs three
 * wire types (varint, length-delimited, packed varints), about 60 lines
 * below.  protobuf-c would add a code generator (protoc-c) to the build, a
 * vendored .proto and two Debian packages for that.  The encoder is checked
 * in the tests by independent readers (`go tool pprof -raw` and a decoder
 * written from the wire-format spec in tests/e2e_export.sh).
 *
 * The message (github.com/google/pprof/proto/profile.proto):
 *   Profile  1 sample_type ValueType*, 2 sample Sample*, 4 location Location*,
 *            5 function Function*, 6 string_table string*, 13 comment int64*,
 *            14 default_sample_type int64
 *   ValueType 1 type, 2 unit (string indexes)
 *   Sample   1 location_id uint64* (packed, leaf first), 2 value int64* (packed)
 *   Location 1 id, 4 line Line*;  Line 1 function_id
 *   Function 1 id, 2 name, 3 system_name, 4 filename (string indexes)
 * One function and one location per distinct (frame kind, frame name); the
 * function's filename is the frame's kind (table, feature, variant, field,
 * container, inline).
 */
#include "report_export_int.h"

#include <string.h>
#include <zlib.h>

DEFINE_VECTOR(pb_buf, uint8_t)

static bool pb_bytes(struct pb_buf *b, const void *p, size_t n)
{
	if (!pb_buf_reserve(b, b->len + n))
		return false;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return true;
}

static bool pb_varint(struct pb_buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		t[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return pb_bytes(b, t, n);
}

/* A field's key: number << 3 | wire type (0 varint, 2 length-delimited). */
static bool pb_key(struct pb_buf *b, unsigned field, unsigned wire)
{
	return pb_varint(b, (uint64_t)field << 3 | wire);
}

static bool pb_uint(struct pb_buf *b, unsigned field, uint64_t v)
{
	return pb_key(b, field, 0) && pb_varint(b, v);
}

static bool pb_len(struct pb_buf *b, unsigned field, const void *p, size_t n)
{
	return pb_key(b, field, 2) && pb_varint(b, n) && pb_bytes(b, p, n);
}

/* A packed repeated varint field. */
static bool pb_packed(struct pb_buf *b, unsigned field, const uint64_t *v, size_t n)
{
	struct pb_buf t;
	pb_buf_init(&t);
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++)
		ok = pb_varint(&t, v[i]);
	ok = ok && pb_len(b, field, t.data, t.len);
	pb_buf_deinit(&t);
	return ok;
}

/* ---- the string table and the frames' ids ---- */

struct pp_str {
	const char *s;
	uint64_t id;
};
static inline const char *pp_str_key(const struct pp_str *x) { return x->s; }
DEFINE_HASH_TABLE(pp_strs, struct pp_str, const char *, pp_str_key, container_hash_str, container_eq_str)

struct pp_frame_key {
	const char *name;
	int kind;
};
struct pp_frame {
	struct pp_frame_key k;
	uint64_t id;
};
static inline struct pp_frame_key pp_frame_key_of(const struct pp_frame *f) { return f->k; }
static inline uint64_t pp_frame_hash(struct pp_frame_key k)
{
	return container_hash_str(k.name) ^ container_hash_u64((uint64_t)k.kind);
}
static inline bool pp_frame_eq(struct pp_frame_key a, struct pp_frame_key b)
{
	return a.kind == b.kind && strcmp(a.name, b.name) == 0;
}
DEFINE_HASH_TABLE(pp_frames, struct pp_frame, struct pp_frame_key, pp_frame_key_of, pp_frame_hash, pp_frame_eq)

struct pp {
	struct pb_buf out;          /* the Profile message */
	struct pp_strs strs;
	uint64_t nstrs;
	struct pp_frames frames;
	uint64_t nframes;
};

/* The string's index in the table, appending it (field 6) when new. */
static bool pp_str(struct pp *p, const char *s, uint64_t *id)
{
	bool ins;
	struct pp_str *x = pp_strs_insert(&p->strs, s, &ins);
	if (!x)
		return false;
	if (ins) {
		x->s = s;
		x->id = p->nstrs++;
		if (!pb_len(&p->out, 6, s, strlen(s)))
			return false;
	}
	*id = x->id;
	return true;
}

/* The location id of a frame, writing its Function (5) and Location (4) when new. */
static bool pp_frame(struct pp *p, const struct export_frame *f, uint64_t *id)
{
	bool ins;
	struct pp_frame_key k = {f->name, (int)f->kind};
	struct pp_frame *x = pp_frames_insert(&p->frames, k, &ins);
	if (!x)
		return false;
	if (!ins) {
		*id = x->id;
		return true;
	}
	x->k = k;
	x->id = *id = ++p->nframes;
	uint64_t name, kind;
	struct pb_buf fn, loc, line;
	pb_buf_init(&fn);
	pb_buf_init(&loc);
	pb_buf_init(&line);
	bool ok = pp_str(p, f->name, &name) && pp_str(p, export_frame_kind_name(f->kind), &kind) &&
		  pb_uint(&fn, 1, x->id) && pb_uint(&fn, 2, name) && pb_uint(&fn, 3, name) && pb_uint(&fn, 4, kind) &&
		  pb_len(&p->out, 5, fn.data, fn.len) && pb_uint(&line, 1, x->id) && pb_uint(&loc, 1, x->id) &&
		  pb_len(&loc, 4, line.data, line.len) && pb_len(&p->out, 4, loc.data, loc.len);
	pb_buf_deinit(&fn);
	pb_buf_deinit(&loc);
	pb_buf_deinit(&line);
	return ok;
}

/* Sample types, in the order of each sample's values. */
static const struct {
	const char *type, *unit;
	enum report_family fam;
} sample_types[] = {{"objects", "count", REPORT_FAM_ALLOCATIONS}, {"requested_space", "bytes", REPORT_FAM_REQUESTED},
		    {"used_space", "bytes", REPORT_FAM_USED}, {"usable_space", "bytes", REPORT_FAM_USABLE},
		    {"chunk_space", "bytes", REPORT_FAM_CHUNK}, {"inline_space", "bytes", REPORT_FAM_INLINE}};
#define NTYPES (sizeof sample_types / sizeof *sample_types)

static bool pp_encode(struct pp *p, const struct report_doc *d, const struct export_stacks *st)
{
	uint64_t id, ids[2], deflt = 0;
	char comment[1200];
	if (!pp_str(p, "", &id))       /* string_table[0] must be "" */
		return false;
	for (size_t i = 0; i < NTYPES; i++) {
		struct pb_buf vt;
		pb_buf_init(&vt);
		bool ok = pp_str(p, sample_types[i].type, &ids[0]) && pp_str(p, sample_types[i].unit, &ids[1]) &&
			  pb_uint(&vt, 1, ids[0]) && pb_uint(&vt, 2, ids[1]) && pb_len(&p->out, 1, vt.data, vt.len);
		pb_buf_deinit(&vt);
		if (!ok)
			return false;
		if (sample_types[i].fam == REPORT_FAM_REQUESTED)
			deflt = ids[0];
	}
	for (size_t i = 0; i < st->len; i++) {
		const struct export_stack *s = &st->data[i];
		uint64_t *loc = calloc(s->nframes ? s->nframes : 1, sizeof *loc), val[NTYPES];
		struct pb_buf sm;
		pb_buf_init(&sm);
		bool ok = loc != NULL;
		for (size_t k = 0; ok && k < s->nframes; k++)   /* leaf first */
			ok = pp_frame(p, &s->frames[s->nframes - 1 - k], &loc[k]);
		for (size_t t = 0; t < NTYPES; t++)
			val[t] = s->v[sample_types[t].fam];
		ok = ok && pb_packed(&sm, 1, loc, s->nframes) && pb_packed(&sm, 2, val, NTYPES) &&
		     pb_len(&p->out, 2, sm.data, sm.len);
		free(loc);
		pb_buf_deinit(&sm);
		if (!ok)
			return false;
	}
	snprintf(comment, sizeof comment, "aggop-inspect profile of %s: enum %s, %llu entities",
		 *d->core ? d->core : d->source, d->enum_name, (unsigned long long)d->entities);
	return pp_str(p, comment, &id) && pb_uint(&p->out, 13, id) && pb_uint(&p->out, 14, deflt);
}

/* gzip (RFC 1952) of the message, as pprof expects its files. */
static int gzip_write(FILE *out, const struct pb_buf *b, struct err *e)
{
	z_stream z = {0};
	unsigned char buf[65536];
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return err_set(e, ERR_NOMEM, "zlib: cannot start compressing");
	z.next_in = b->data;
	int rc;
	size_t left = b->len;
	do {
		uInt n = left > 1u << 30 ? 1u << 30 : (uInt)left;
		z.avail_in = n;
		left -= n;
		do {
			z.next_out = buf;
			z.avail_out = sizeof buf;
			rc = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
			if (rc == Z_STREAM_ERROR || fwrite(buf, 1, sizeof buf - z.avail_out, out) != sizeof buf - z.avail_out) {
				deflateEnd(&z);
				return err_set(e, ERR_IO, "writing the pprof profile failed");
			}
		} while (z.avail_out == 0);
	} while (left);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : err_set(e, ERR_IO, "zlib: the pprof profile did not compress");
}

int report_pprof(FILE *out, const struct report_doc *d, struct err *e)
{
	struct export_stacks st;
	struct pp p = {0};
	if (export_stacks_make(&st, d, e))
		return e->code;
	pb_buf_init(&p.out);
	pp_strs_init(&p.strs);
	pp_frames_init(&p.frames);
	int rc = pp_encode(&p, d, &st) ? gzip_write(out, &p.out, e) : err_set(e, ERR_NOMEM, "out of memory "
											     "encoding the pprof profile");
	pb_buf_deinit(&p.out);
	pp_strs_deinit(&p.strs);
	pp_frames_deinit(&p.frames);
	export_stacks_free(&st);
	if (!rc && ferror(out))
		rc = err_set(e, ERR_IO, "writing the pprof profile failed");
	return rc;
}
