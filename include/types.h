/* types.h: the DWARF type graph of an executable, indexed by qualified name.
 *
 * Built once with libdwarf (Debian's 20210528 API) over every CU (DWARF 4 and
 * 5 mixed, compressed sections, DW_FORM_ref_addr across CUs).  rustc emits
 * each type once per codegen unit; copies are merged by qualified name and
 * layout, and declaration stubs are resolved to their definition, so a
 * type_id names one type.  One name can name several types when their
 * layouts differ (two versions of one crate in one binary): lookups by that
 * name then answer ERR_AMBIGUOUS naming the sizes.  Qualified names are built from the namespace chain plus DW_AT_name
 * ("alloc::vec::Vec<f64, alloc::alloc::Global>"); pointer, fat-pointer, tuple
 * and base types keep the full name rustc gives them at CU level.
 *
 * A Rust enum with data is a TYPES_STRUCT whose `vpart` is non-NULL: the tag
 * (offset, width), and one entry per variant with its discriminant value
 * (masked to the tag width) or none for the dataful/untagged variant.
 * Variant payload structs have the enum's size and offsets relative to the
 * enum's start (rustc convention).
 *
 * This layer never reads target memory except through the bytes a caller
 * passes to types_variant_index.  All returned pointers stay valid until
 * types_close.
 */
#ifndef AGGOP_TYPES_H
#define AGGOP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "err.h"
#include "version.h"

struct types;

/* 0 is "no type" (void, or unknown). */
typedef uint32_t type_id;

enum types_kind {
	TYPES_VOID = 0,
	TYPES_BASE,        /* integers, floats, bool, char; encoding = DW_ATE_* */
	TYPES_POINTER,     /* pointers and references (thin); size 8 */
	TYPES_STRUCT,      /* structs, tuples, fat pointers, Rust enums (vpart) */
	TYPES_UNION,
	TYPES_ENUMERATION, /* C-like enum (DW_TAG_enumeration_type) */
	TYPES_ARRAY,       /* target = element, count = elements (dims multiplied) */
	TYPES_TYPEDEF,     /* also const/volatile/restrict/atomic: target = underlying */
	TYPES_SUBROUTINE,
	TYPES_UNKNOWN
};

struct types_member {
	const char *name;     /* "" for anonymous */
	type_id type;
	uint64_t offset;      /* DW_AT_data_member_location */
	bool artificial;
};

struct types_tparam {
	const char *name;     /* "T", "K", "V", "A", "S", ... */
	type_id type;
};

struct types_variant {
	const char *name;     /* the variant's name ("Count") */
	type_id type;         /* the variant's payload struct (size == enum size) */
	uint64_t offset;      /* member location of the variant struct (0 in rustc) */
	bool has_discr;       /* false: the dataful / default variant */
	uint64_t discr;       /* DW_AT_discr_value masked to tag_size bytes */
};

struct types_variant_part {
	bool has_tag;         /* false: no DW_AT_discr, the single variant is active */
	uint64_t tag_offset;
	uint32_t tag_size;    /* bytes: 1, 2, 4 or 8 */
	type_id tag_type;
	uint32_t nvariants;
	const struct types_variant *variants;
};

struct types_enumerator {
	const char *name;
	int64_t value;
};

struct types_type {
	enum types_kind kind;
	const char *name;            /* qualified, "" when anonymous */
	uint64_t size;               /* bytes; pointers 8 */
	uint32_t align;              /* DW_AT_alignment, else derived (max member align) */
	uint32_t encoding;           /* TYPES_BASE: DW_ATE_* */
	type_id target;              /* POINTER, ARRAY, TYPEDEF */
	uint64_t count;              /* ARRAY */
	uint32_t nmembers;           /* STRUCT/UNION: members sorted by offset */
	const struct types_member *members;
	uint32_t ntparams;
	const struct types_tparam *tparams;
	const struct types_variant_part *vpart; /* Rust enums only */
	uint32_t nenumerators;
	const struct types_enumerator *enumerators;
	bool is_declaration;         /* only a stub was found, no definition */
	uint64_t die_offset;         /* global offset of the DIE chosen (for messages) */
};

struct types_static {
	const char *name;            /* qualified */
	const char *linkage_name;    /* or NULL */
	uint64_t addr;               /* link-time address (add the image's bias) */
	type_id type;
};

struct types_stats {
	size_t cus, dies, types, merged, statics;
	size_t conflicts; /* qualified names with more than one layout */
};

/* Opens exe's DWARF.  When exe has none, tries debug_file (if non-NULL) and
 * then /usr/lib/debug/.build-id/xx/yyyy.debug.  ERR_INPUT when no debug info
 * with types is found (say: build with debug = 2 / "full", not "limited", or
 * pass --debug-file).  A debug file whose build-id differs from exe's is
 * refused (ERR_INPUT).  The environment variable AGGOP_DEBUG_ROOT, when set,
 * replaces /usr/lib/debug as the build-id search root (meant for tests). */
int types_open(struct types **out, const char *exe, const char *debug_file,
	       struct err *e);

/* Where to look for separate debug info, beyond the executable itself. */
struct types_debug_opts {
	const char *debug_file;  /* --debug-file, or NULL */
	const char *debug_dir;   /* --debug-dir: a root searched before /usr/lib/debug, or NULL */
	bool progress;           /* a debuginfod download's progress line on a terminal */
};
/* types_open with the whole discovery, in gdb's order: the executable; the
 * debug file given; ROOT/.build-id/xx/rest.debug for --debug-dir and then
 * /usr/lib/debug (AGGOP_DEBUG_ROOT replaces it, for tests); .gnu_debuglink
 * (NAME beside the executable, in its .debug/, under each root + the
 * executable's directory); debuginfod (DEBUGINFOD_URLS, through
 * libdebuginfod.so.1 when installed).  Each candidate's build-id must equal
 * the executable's (or, without build-ids, a debuglink's CRC32 match).  A
 * stripped executable whose debug info is nowhere is ERR_INPUT naming every
 * place looked at. */
int types_open_ex(struct types **out, const char *exe, const struct types_debug_opts *o, struct err *e);
/* Where the DWARF came from, for the report: "the executable itself",
 * "--debug-file PATH", "the build-id directory: PATH", ".gnu_debuglink:
 * PATH", "debuginfod: PATH". */
const char *types_debug_source(const struct types *t);
void types_close(struct types *t);

size_t types_count(const struct types *t);      /* ids are 1..count */
const struct types_type *types_get(const struct types *t, type_id id);
void types_get_stats(const struct types *t, struct types_stats *s);

/* Strips typedefs and cv-qualifiers. */
type_id types_resolve(const struct types *t, type_id id);

/* By exact qualified name, then by last path segment (outside <...>, with or
 * without generic arguments: "AggOp", "Vec<f64, alloc::alloc::Global>").
 * ERR_NOTFOUND, or ERR_AMBIGUOUS naming up to a few candidates. */
int types_lookup(const struct types *t, const char *name, type_id *out, struct err *e);

/* All types whose qualified name starts with prefix (e.g. "alloc::sync::ArcInner<");
 * fills up to max ids, returns how many matched in total. */
size_t types_find_prefix(const struct types *t, const char *prefix, type_id *ids, size_t max);

DEFINE_VECTOR(types_id_vec, type_id)

/* Every type whose qualified name starts with prefix, appended to *out in
 * id order (the caller owns it: types_id_vec_deinit).  ERR_NOMEM, with *out as
 * it was, when memory runs out. */
int types_find_prefix_all(const struct types *t, const char *prefix, struct types_id_vec *out,
			  struct err *e);

/* A member of a struct/union by name ("buf"), or a dotted path
 * ("buf.inner.cap.__0"): its accumulated offset and its type.
 * ERR_NOTFOUND when a step is missing.  offset and type may be NULL. */
int types_member_path(const struct types *t, type_id id, const char *path,
		      uint64_t *offset, type_id *type, struct err *e);

/* A template type parameter by name ("T"); 0 when absent. */
type_id types_tparam(const struct types *t, type_id id, const char *name);

/* The active variant of a Rust enum given the enum's bytes (len >= size):
 * reads the tag, masks it, matches discr values, falls back to the dataful
 * variant.  ERR_CORRUPT when nothing matches and there is no dataful one. */
int types_variant_index(const struct types *t, type_id id, const void *bytes,
			size_t len, uint32_t *index, struct err *e);

/* Statics (DW_TAG_variable with a DW_OP_addr / DW_OP_addrx location), by
 * qualified name or last segment. */
int types_static_lookup(const struct types *t, const char *name,
			const struct types_static **out, struct err *e);
size_t types_static_count(const struct types *t);
const struct types_static *types_static_at(const struct types *t, size_t i);

/* A trait-object vtable at a link-time address: the concrete type (from the
 * `<T as Tr>::{vtable}` static's {vtable_type} DW_AT_containing_type); 0 if
 * unknown. */
type_id types_vtable_type(const struct types *t, uint64_t addr);

/* Build-id (lowercase hex) of the file the DWARF came from ("" if none). */
const char *types_build_id(const struct types *t);

/* The rustc release that wrote the binary, from the CUs' DW_AT_producer
 * ("clang LLVM (rustc version 1.95.0 (59807616e 2026-04-14))"): the release
 * most CUs written by rustc name, the newer one on a tie.  ERR_NOTFOUND when
 * no CU names rustc (a C program).  Pointers may be NULL. */
int types_rustc_version(const struct types *t, unsigned *major, unsigned *minor, unsigned *patch);

/* What the types layer detected, with its evidence (version.h): the rustc
 * release ("rustc" / "version"). */
const struct version_facts *types_versions(const struct types *t);

#endif
