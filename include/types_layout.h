/* types_layout.h: where the bytes of one type go, computed from the type graph.
 *
 * For a struct or union: its members in memory order with offsets, sizes,
 * the hole before each and the tail padding.  For a Rust enum: its size and
 * alignment, where the tag lives and how wide it is, each variant's
 * discriminant (none for the dataful variant of a niche layout), payload size
 * and slot slack, the variants that set the enum's size, and a model of the
 * size the enum would have if its 1, 2 or 3 largest payload variants were
 * boxed.  A module of the types layer: it reads types.h alone (no core, no
 * target memory) and prints nothing.  `aggop-inspect layout EXE TYPE` prints
 * these (report_layout_print, report.h); the profile report (the layout
 * advisor) uses the same numbers.
 *
 * Definitions (the numbers every user of this module sees):
 *   payload_size  the span of the variant's fields, rounded up to their
 *                 largest alignment: round_up(max(offset + size) - min(offset),
 *                 max align) over the fields with a non-zero size; 0 for a
 *                 variant without such fields.  rustc places a variant's fields
 *                 relative to the enum's start (types.h), so the span is where
 *                 the payload really lies; for a single-field variant it equals
 *                 size_of::<Field>(), for several fields size_of of the tuple
 *                 of them whenever rustc packs them as it would that tuple.
 *   slot_slack    enum size - payload_size: bytes of the slot this variant
 *                 does not use for its data (the tag included).
 *   sets_size     the variants with the largest payload_size.
 *   boxed_size[k] the MODEL of the enum's size with the k+1 largest-payload
 *                 variants boxed (ties: declaration order): each boxed payload
 *                 becomes one 8-byte, 8-aligned pointer placed after the tag
 *                 (round_up(tag_end, 8)); every other variant keeps its fields'
 *                 offsets; the tag keeps its place and width; the size is
 *                 round_up(max(tag end, every variant's payload end), the
 *                 largest alignment among tag, kept fields and pointers).  It
 *                 does not re-run rustc's layout: the niche or tag encoding
 *                 rustc would pick for the changed enum may differ, so this is
 *                 an estimate, and the output says so.
 */
#ifndef AGGOP_TYPES_LAYOUT_H
#define AGGOP_TYPES_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "types.h"

struct types_layout_member {
	const char *name;
	type_id type;
	uint64_t offset, size;
	uint64_t hole_before;   /* unused bytes between the previous member's end and this one */
};

struct types_layout_struct {
	type_id id;
	const char *name;
	bool is_union;
	uint64_t size;
	uint32_t align;
	uint32_t nmembers;
	struct types_layout_member *members; /* memory order */
	uint64_t holes;         /* sum of hole_before */
	uint64_t tail_padding;  /* size - end of the last member */
};

struct types_layout_variant {
	const char *name;
	type_id type;           /* the variant's payload struct */
	bool has_discr;         /* false: the dataful (niche) or only variant */
	uint64_t discr;         /* masked to the tag width */
	uint64_t payload_offset; /* where the first field starts (0 when none) */
	uint64_t payload_end;   /* max(offset + size) over the fields, 0 when none */
	uint64_t payload_size;  /* see the definitions above */
	uint32_t payload_align;
	uint64_t slot_slack;
	bool sets_size;
};

struct types_layout_enum {
	type_id id;
	const char *name;
	uint64_t size;
	uint32_t align;
	bool has_tag;           /* false: one variant, always active, no tag */
	bool niche;             /* a dataful variant exists (niche encoding) */
	uint64_t tag_offset;
	uint32_t tag_size;
	uint32_t nvariants;
	struct types_layout_variant *variants; /* declaration (DWARF) order */
	uint32_t nboxed;        /* how many boxed_size entries are meaningful (<= 3) */
	uint64_t boxed_size[3];
	uint32_t boxed_variant[3]; /* the variant boxed at step k (largest first) */
};

/* A struct's or union's layout.  ERR_NOTFOUND when id is not one. */
int types_layout_struct(const struct types *t, type_id id, struct types_layout_struct *out, struct err *e);
void types_layout_struct_free(struct types_layout_struct *ls);

/* A Rust enum's layout.  ERR_NOTFOUND when id is not a Rust enum (a struct
 * with a variant part). */
int types_layout_enum(const struct types *t, type_id id, struct types_layout_enum *out, struct err *e);
void types_layout_enum_free(struct types_layout_enum *le);

#endif
