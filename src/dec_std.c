/* dec_std.c: the version tables of Rust std and of the crates whose
 * containers the decode layer reads, each entry with its detector.
 *
 * A release changes a container in one of two ways.  Either a field moves or
 * is renamed (RawVec's capacity became the `Cap` newtype, then moved into
 * RawVecInner; VecDeque went from {tail, head} to {head, len}): DWARF shows
 * which form the binary has, so the detector is the member path that exists.
 * Or an encoding changes that DWARF does not carry (the value a Once stores
 * when complete, compact_str's marker bytes, hashbrown's group width): the
 * detector then uses other evidence, the rustc that wrote the binary
 * (DW_AT_producer) or the target machine.  Every detection is recorded as a
 * version fact with its evidence, once per (fact, value).
 *
 * Sources: rust-lang/rust library/alloc and library/std of the releases named
 * in each entry; hashbrown src/raw (Group::WIDTH: sse2.rs 16, generic.rs 8);
 * compact_str src/repr (mod.rs, last_utf8_char.rs); smallvec 1.x lib.rs.
 */
#include "dec_int.h"

#include <stdio.h>
#include <string.h>

void dec_std_note(struct dec *d, const char *dep, const char *what, const char *value, const char *evidence)
{
	if (!version_note(&d->versions, dep, what, value, "%s", evidence))
		d->oom = true;
}

/* ---------------------------------------------------------------- fields */

/* RawVec's capacity and pointer, relative to RawVec (Vec's `buf`). */
const struct dec_field_form DEC_RAWVEC_CAP[] = {
	{"inner.cap.__0", "RawVecInner, cap: Cap / UsizeNoHighBit (rustc 1.82+)"},
	{"inner.cap", "RawVecInner, cap: usize"},
	{"cap.__0", "RawVec, cap: the Cap newtype (rustc 1.76-1.81)"},
	{"cap", "RawVec, cap: usize (rustc 1.75 and older)"},
	{NULL, NULL},
};
const struct dec_field_form DEC_RAWVEC_PTR[] = {
	{"inner.ptr.pointer.pointer", "RawVecInner, ptr: Unique<u8> { NonNull } (rustc 1.82+)"},
	{"inner.ptr.pointer", "RawVecInner, ptr: NonNull<u8>"},
	{"ptr.pointer.pointer", "RawVec, ptr: Unique<T> { NonNull<T> } (rustc 1.61-1.81)"},
	{"ptr.pointer", "RawVec, ptr: Unique<T> { *const T } (rustc 1.60 and older)"},
	{"ptr", "RawVec, ptr: a raw pointer"},
	{NULL, NULL},
};

int dec_std_field(struct dec *d, type_id id, const char *prefix, const struct dec_field_form *forms,
		   const char *fact, uint64_t *off, type_id *ty)
{
	char path[128];
	for (int i = 0; forms[i].path; i++) {
		snprintf(path, sizeof path, "%s%s", prefix, forms[i].path);
		if (types_member_path(d->t, id, path, off, ty, NULL) != 0)
			continue;
		if (ty)
			*ty = types_resolve(d->t, *ty);
		if (fact) {
			const struct types_type *tt = types_get(d->t, id);
			char ev[512];
			snprintf(ev, sizeof ev, "DWARF member `%s` of %.120s", path, tt && tt->name ? tt->name : "?");
			dec_std_note(d, "rust std", fact, forms[i].release, ev);
		}
		return i;
	}
	return -1;
}

/* ---------------------------------------------------------------- VecDeque */

bool dec_std_deque_form(struct dec *d, type_id id, bool *tail_head)
{
	const struct types_type *tt = types_get(d->t, id);
	uint64_t off;
	char ev[512];
	if (types_member_path(d->t, id, "len", &off, NULL, NULL) == 0 &&
	    types_member_path(d->t, id, "head", &off, NULL, NULL) == 0) {
		*tail_head = false;
		snprintf(ev, sizeof ev, "DWARF members `head` and `len` of %.120s", tt->name);
		dec_std_note(d, "rust std", "VecDeque layout", "head + len (rustc 1.67+)", ev);
		return true;
	}
	if (types_member_path(d->t, id, "tail", &off, NULL, NULL) == 0 &&
	    types_member_path(d->t, id, "head", &off, NULL, NULL) == 0) {
		*tail_head = true;
		snprintf(ev, sizeof ev, "DWARF members `tail` and `head` of %.120s", tt->name);
		dec_std_note(d, "rust std", "VecDeque layout",
			      "tail + head, power-of-two buffer (rustc 1.66 and older)", ev);
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- Once */

/* Which rustc releases use each implementation: [from, until) as
 * major * 1000 + minor, 0 = open; an entry without a range is told apart by
 * its DWARF alone.  `ambiguous` entries name releases whose encoding is not
 * known: a Once there is reported, never guessed. */
struct once_entry {
	struct once_impl impl;
	unsigned from, until;
	bool ambiguous;
};

static const struct once_entry ONCE_IMPLS[] = {
	/* the queue Once (rustc 1.65 and older on Linux): a pointer whose low
	 * bits are INCOMPLETE 0, POISONED 1, RUNNING 2, COMPLETE 3 */
	{{"queue, COMPLETE = 3", "inner.state_and_queue", 8, 3, ~0ull}, 0, 0, false},
	{{"queue, COMPLETE = 3", "state_and_queue", 8, 3, ~0ull}, 0, 0, false},
	/* the futex Once as introduced (rust-lang/rust#99505, rustc 1.66):
	 * `state`, INCOMPLETE 0, POISONED 1, RUNNING 2, QUEUED 3, COMPLETE 4 */
	{{"futex, COMPLETE = 4", "inner.state", 4, 4, ~0ull}, 0, 0, false},
	/* `state_and_queued` with a QUEUED bit (4) over STATE_MASK 0b11:
	 * INCOMPLETE 0 ... COMPLETE 3 until rust-lang/rust#143881 renumbered
	 * the states so that COMPLETE is 0 (merged for 1.90 or 1.91) */
	{{"futex, COMPLETE = 3", "inner.state_and_queued", 4, 3, 3}, 1082, 1090, false},
	{{"futex, COMPLETE = 3 or 0 (rustc 1.90: not known which)", "inner.state_and_queued", 4, 0, 0}, 1090, 1091,
	 true},
	{{"futex, COMPLETE = 0", "inner.state_and_queued", 4, 0, 3}, 1091, 0, false},
};

const struct once_impl *dec_std_once(struct dec *d, type_id once_type, uint64_t *state_off)
{
	const struct types_type *tt = types_get(d->t, once_type);
	unsigned maj = 0, min = 0, patch = 0;
	bool have_rustc = types_rustc_version(d->t, &maj, &min, &patch) == 0;
	unsigned v = maj * 1000 + min;
	char ev[512];
	for (size_t i = 0; i < sizeof ONCE_IMPLS / sizeof ONCE_IMPLS[0]; i++) {
		const struct once_entry *o = &ONCE_IMPLS[i];
		type_id st;
		uint64_t off;
		if (types_member_path(d->t, once_type, o->impl.state_path, &off, &st, NULL) != 0)
			continue;
		const struct types_type *s = types_get(d->t, types_resolve(d->t, st));
		if (!s || s->size != o->impl.state_size)
			continue;
		/* the same member in two encodings: the rustc release decides */
		if (o->from || o->until) {
			if (!have_rustc) {
				snprintf(ev, sizeof ev, "DWARF member `%s` of %.60s, but no rustc DW_AT_producer to "
					 "tell its encoding", o->impl.state_path, tt->name);
				dec_std_note(d, "rust std", "Once", "unknown", ev);
				return NULL;
			}
			if ((o->from && v < o->from) || (o->until && v >= o->until))
				continue;
			snprintf(ev, sizeof ev, "DWARF member `%s` (%u bytes) of %.60s; DW_AT_producer rustc %u.%u.%u",
				 o->impl.state_path, o->impl.state_size, tt->name, maj, min, patch);
		} else {
			snprintf(ev, sizeof ev, "DWARF member `%s` (%u bytes) of %.80s", o->impl.state_path,
				 o->impl.state_size, tt->name);
		}
		dec_std_note(d, "rust std", "Once", o->impl.name, ev);
		if (o->ambiguous)
			return NULL;
		*state_off = off;
		return &o->impl;
	}
	return NULL;
}

/* ---------------------------------------------------------------- compact_str */

/* Detected by the type of Repr's last byte: an enumeration naming the
 * markers (0.8: LastUtf8Char, 0.9: LastByte; Heap, Static and L0 are read
 * from DWARF), or NonMaxU8 (0.6, 0.7: HEAP_MASK 0b1111_1110, no static
 * form).  The heap form's capacity fills the low 7 bytes of the last word
 * in every release (compact_str src/repr/capacity.rs). */
static const struct compact_repr COMPACT_REPRS[] = {
	{"0.8/0.9: markers from the last byte's enumeration", 24, 0, 0, 0, true, 7},
	{"0.6/0.7: NonMaxU8 last byte, HEAP_MASK 254, LENGTH_MASK 192", 24, 254, 254, 192, false, 7},
};

static bool enumerator(const struct types_type *et, const char *name, uint8_t *v)
{
	for (uint32_t i = 0; i < et->nenumerators; i++)
		if (strcmp(et->enumerators[i].name, name) == 0 && et->enumerators[i].value >= 0 &&
		    et->enumerators[i].value < 256) {
			*v = (uint8_t)et->enumerators[i].value;
			return true;
		}
	return false;
}

bool dec_std_compact(struct dec *d, type_id id, struct compact_repr *out)
{
	const struct types_type *tt = types_get(d->t, id);
	uint64_t off;
	type_id repr = id, rt;
	char ev[512];
	if (types_member_path(d->t, id, "__0", &off, &rt, NULL) == 0 ||
	    types_member_path(d->t, id, "repr", &off, &rt, NULL) == 0)
		repr = types_resolve(d->t, rt);   /* CompactString(Repr) */
	const struct types_type *r = types_get(d->t, repr);
	if (!tt || !r || r->size != tt->size || r->nmembers == 0)
		return false;
	/* the member holding the last byte */
	const struct types_member *last = &r->members[0];
	for (uint32_t i = 1; i < r->nmembers; i++)
		if (r->members[i].offset > last->offset)
			last = &r->members[i];
	const struct types_type *lt = types_get(d->t, types_resolve(d->t, last->type));
	if (!lt || last->offset + 1 != r->size)
		return false;
	if (lt->kind == TYPES_ENUMERATION) {
		*out = COMPACT_REPRS[0];
		if (out->size != r->size || !enumerator(lt, "Heap", &out->heap_mask) ||
		    !enumerator(lt, "Static", &out->static_mask) || !enumerator(lt, "L0", &out->len_mask))
			return false;
		snprintf(ev, sizeof ev, "DWARF enumeration %.80s: Heap = %u, Static = %u, L0 = %u", lt->name,
			 out->heap_mask, out->static_mask, out->len_mask);
	} else if (lt->name && strstr(lt->name, "NonMaxU8")) {
		*out = COMPACT_REPRS[1];
		if (out->size != r->size)
			return false;
		snprintf(ev, sizeof ev, "DWARF: the last byte of %.80s is %.80s", r->name, lt->name);
	} else {
		return false;
	}
	dec_std_note(d, "compact_str", "Repr markers", out->name, ev);
	return true;
}

/* ---------------------------------------------------------------- bytes */

/* bytes 1.x (src/bytes.rs, src/bytes_mut.rs): a Bytes names its kind by its
 * vtable (the statics below), a KIND_VEC / KIND_ARC bit in its data pointer
 * (KIND_MASK = 1), and BytesMut's vec form keeps its offset from the buffer's
 * start in data >> VEC_POS_OFFSET (5). */
static const struct bytes_entry {
	const char *release;
	const char *even, *odd, *shared, *stat;
	uint32_t vec_pos_shift;
} BYTES_RELEASES[] = {
	{"1.x (PROMOTABLE_EVEN/ODD and SHARED vtables, static form by null data; VEC_POS_OFFSET 5)", "bytes::bytes::PROMOTABLE_EVEN_VTABLE",
	 "bytes::bytes::PROMOTABLE_ODD_VTABLE", "bytes::bytes::SHARED_VTABLE", "bytes::bytes::STATIC_VTABLE", 5},
};

static uint64_t static_addr(struct dec *d, const char *name)
{
	const struct types_static *st;
	return types_static_lookup(d->t, name, &st, NULL) == 0 ? st->addr : 0;
}

bool dec_std_bytes(struct dec *d, struct bytes_layout *l)
{
	char ev[512];
	for (size_t i = 0; i < sizeof BYTES_RELEASES / sizeof BYTES_RELEASES[0]; i++) {
		const struct bytes_entry *b = &BYTES_RELEASES[i];
		l->vt_even = static_addr(d, b->even);
		l->vt_odd = static_addr(d, b->odd);
		l->vt_shared = static_addr(d, b->shared);
		l->vt_static = static_addr(d, b->stat);
		l->vec_pos_shift = b->vec_pos_shift;
		if (!l->vt_even && !l->vt_odd && !l->vt_shared && !l->vt_static)
			continue;
		snprintf(ev, sizeof ev, "statics %s%s%s%s in the DWARF", l->vt_even ? "PROMOTABLE_EVEN " : "",
			 l->vt_odd ? "PROMOTABLE_ODD " : "", l->vt_shared ? "SHARED " : "", l->vt_static ? "STATIC" : "");
		dec_std_note(d, "bytes", "Bytes vtables", b->release, ev);
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- hashbrown */

struct group_entry {
	uint16_t machine;     /* ELF e_machine */
	uint32_t width;
	const char *name;
};

static const struct group_entry GROUP_WIDTHS[] = {
	{62 /* EM_X86_64 */, 16, "Group::WIDTH 16 (SSE2)"},
	{183 /* EM_AARCH64 */, 8, "Group::WIDTH 8 (NEON / generic)"},
};

uint32_t dec_std_group_width(struct dec *d)
{
	uint16_t m = image_machine(d->img);
	char ev[512];
	for (size_t i = 0; i < sizeof GROUP_WIDTHS / sizeof GROUP_WIDTHS[0]; i++)
		if (GROUP_WIDTHS[i].machine == m) {
			snprintf(ev, sizeof ev, "ELF machine %u of the core", m);
			dec_std_note(d, "hashbrown", "group width", GROUP_WIDTHS[i].name, ev);
			return GROUP_WIDTHS[i].width;
		}
	return 0;
}

/* ---------------------------------------------------------------- BTreeMap */

uint32_t dec_std_btree_capacity(struct dec *d, type_id leaf, uint64_t keys_count)
{
	/* CAPACITY = 2 * B - 1 is the length of LeafNode's `keys` array: read
	 * from DWARF, not assumed */
	const struct types_type *tt = types_get(d->t, leaf);
	char ev[512], val[32];
	if (keys_count == 0 || keys_count > 4096)
		return 0;
	snprintf(ev, sizeof ev, "length of `keys` in %.140s", tt && tt->name ? tt->name : "LeafNode");
	snprintf(val, sizeof val, "node CAPACITY %llu", (unsigned long long)keys_count);
	dec_std_note(d, "rust std", "BTreeMap node", val, ev);
	return (uint32_t)keys_count;
}

/* ---------------------------------------------------------------- names */

int dec_std_name(const char *name, const struct dec_name_form *forms)
{
	for (int i = 0; name && forms[i].prefix; i++)
		if (strncmp(name, forms[i].prefix, strlen(forms[i].prefix)) == 0)
			return i;
	return -1;
}

/* Newtypes around a pointer, followed to it (their first member). */
const struct dec_name_form DEC_PTR_NEWTYPES[] = {
	{"core::ptr::non_null::NonNull<", "NonNull<T> { pointer }"},
	{"core::ptr::unique::Unique<", "Unique<T> { pointer } (Vec's and Box's pointer in older releases)"},
	{NULL, NULL},
};

/* Option<T>: seen through to its Some behind a lazy cell or a Mutex. */
const struct dec_name_form DEC_OPTION[] = {
	{"core::option::Option<", "core::option::Option (every release)"},
	{NULL, NULL},
};

/* ---------------------------------------------------------------- wrappers */

/* Wrappers seen through to the value they hold: the wrapper's name and the
 * member that holds the value, in each spelling a release of std or of the
 * crate uses.  The detector is the name with the member path present. */
static const struct dec_wrapper_form {
	const char *prefix;
	const char *member;
	const char *release;
} WRAPPERS[] = {
	{"core::cell::UnsafeCell<", "value", "core::cell"},
	{"core::cell::SyncUnsafeCell<", "value", "core::cell"},
	{"core::cell::RefCell<", "value", "core::cell"},
	{"core::cell::Cell<", "value", "core::cell"},
	{"core::mem::manually_drop::ManuallyDrop<", "value", "core::mem"},
	{"core::mem::maybe_uninit::MaybeUninit<", "value", "core::mem"},
	{"core::mem::maybe_dangling::MaybeDangling<", "__0", "core::mem, a tuple struct (newer releases)"},
	{"std::sync::poison::mutex::Mutex<", "data", "std::sync::poison (the releases with the poison module)"},
	{"std::sync::mutex::Mutex<", "data", "std::sync::mutex (the releases before the poison module)"},
	{"std::sync::poison::rwlock::RwLock<", "data", "std::sync::poison (the releases with the poison module)"},
	{"std::sync::rwlock::RwLock<", "data", "std::sync::rwlock (the releases before the poison module)"},
	{"lock_api::mutex::Mutex<", "data", "lock_api (parking_lot)"},
	{"lock_api::rwlock::RwLock<", "data", "lock_api (parking_lot)"},
	{"lock_api::remutex::ReentrantMutex<", "data", "lock_api (parking_lot)"},
	/* where std has no OnceLock (before rustc 1.70) or a crate is used
	 * instead: the value is an Option<T>, initialised when Some */
	{"once_cell::sync::OnceCell<", "value", "once_cell"},
	{"once_cell::sync::Lazy<", "cell", "once_cell"},
	{"once_cell::unsync::OnceCell<", "inner", "once_cell"},
	{"once_cell::unsync::Lazy<", "cell", "once_cell"},
	{"once_cell::imp::OnceCell<", "value", "once_cell"},
	{"lazy_static::lazy::Lazy<", "__0", "lazy_static"},
};

bool dec_std_wrapper(struct dec *d, type_id ty, const char *name, uint64_t *off, type_id *inner)
{
	for (size_t i = 0; name && i < sizeof WRAPPERS / sizeof WRAPPERS[0]; i++)
		if (strncmp(name, WRAPPERS[i].prefix, strlen(WRAPPERS[i].prefix)) == 0 &&
		    types_member_path(d->t, ty, WRAPPERS[i].member, off, inner, NULL) == 0)
			return true;
	return false;
}
