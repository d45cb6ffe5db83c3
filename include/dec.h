/* dec.h: the decode layer: what a value of a Rust type is, read from the core.
 *
 * Between the heap and everything that starts or runs a walk (roots, walk,
 * profile).  Per type it classifies once (struct, enum, array, or one of the
 * container families: Vec, String, VecDeque, hashbrown tables, BTreeMap,
 * LinkedList, Box, Rc/Arc/Weak, SmallVec, compact_str, OnceLock/LazyLock,
 * ArrayVec, bytes) and finds the family's layout in DWARF in the form the
 * version tables say the binary's std or crate release uses; it decodes one
 * container header into a view (the allocation it owns, how its elements are
 * reached), and offers typed readers built on that decode: strings, integers,
 * enum variants, pointers followed, wrappers seen through, the allocation a
 * value owns, root validation.  It traverses nothing: following what a value
 * owns is the walk layer's job (walk.h), which uses this layer's context.
 *
 * One context per profile run: its classification cache is filled lazily
 * (a tiny input classifies the few types it meets), and the version facts it
 * detected are kept for the report.  Single-threaded.  The image, types and
 * heap it is given must outlive it.
 */
#ifndef AGGOP_DEC_H
#define AGGOP_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "heap.h"
#include "image.h"
#include "types.h"
#include "version.h"

struct dec;

/* What kind of container an allocation backs, as its family's decoder says
 * (the walk reports allocations with it and walk_kind_name names it; the
 * name is the walk's, older than this layer, and kept for its users). */
enum walk_kind {
	WALK_BOX = 0, WALK_BOX_SLICE, WALK_BOX_DYN, WALK_VEC, WALK_STRING,
	WALK_VECDEQUE, WALK_HASHTABLE, WALK_BTREE_LEAF, WALK_BTREE_INTERNAL,
	WALK_ARC, WALK_RC, WALK_SMALLVEC, WALK_COMPACT_STR, WALK_LIST_NODE, WALK_KIND_COUNT
};

/* h may be NULL (no census: dec_check then cannot be used). */
int dec_create(struct dec **out, const struct image *img, const struct types *t, const struct heap *h,
	       struct err *e);
void dec_destroy(struct dec *d);

const struct image *dec_image(const struct dec *d);
const struct types *dec_types(const struct dec *d);

/* The enum whose instances are the profile's ops (0: none): a value of it
 * counts as owning heap (it is where attribution starts). */
void dec_set_op_type(struct dec *d, type_id op_type);

/* What the version tables detected so far (layouts and encodings met), with
 * the evidence. */
const struct version_facts *dec_versions(const struct dec *d);

/* Whether a value of type ty can own heap at all (a static worth walking). */
bool dec_type_owns(struct dec *d, type_id ty);

/* Typed readers (all bounds-checked).  A string of any Rust flavour (String,
 * &str, Box<str>, Arc<str>, CompactString, Bytes), NUL-terminated, truncated
 * to size-1. */
int dec_read_string(struct dec *d, uint64_t addr, type_id ty, char *buf, size_t size, struct err *e);
/* An integer (through transparent newtypes such as AtomicU64). */
int dec_read_uint(struct dec *d, uint64_t addr, type_id ty, uint64_t *v, struct err *e);
/* The index of the active variant of the Rust enum at addr. */
int dec_variant(struct dec *d, uint64_t addr, type_id ty, uint32_t *index, struct err *e);
/* Follows a pointer (Box, Rc, Arc of a sized T, a raw pointer, NonNull,
 * Unique, the Some of an Option of one) to its pointee. */
int dec_deref(struct dec *d, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e);
/* The allocation the container or owning pointer at addr owns (*mem 0: none). */
int dec_owned(struct dec *d, uint64_t addr, type_id ty, uint64_t *mem, uint64_t *requested, struct err *e);
/* Sees through wrappers (Mutex, RwLock (std, parking_lot, lock_api), RefCell,
 * Cell, UnsafeCell, ManuallyDrop, MaybeUninit, OnceLock, LazyLock, once_cell,
 * lazy_static, Arc, Rc, Box, Option's Some) to the value they hold. */
int dec_unwrap(struct dec *d, uint64_t addr, type_id ty, uint64_t *out_addr, type_id *out_type, struct err *e);
/* Root validation: the value at addr and the containers it holds (through
 * structs and enum variants, a few levels deep) decode, and each buffer they
 * own is an in-use chunk of the census big enough for what the header says (a
 * hash table's control bytes must also agree with its item count). */
int dec_check(struct dec *d, uint64_t addr, type_id ty, struct err *e);

#endif
