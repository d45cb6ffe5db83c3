/* image.h: the process memory of a core dump, as the process saw it.
 *
 * Opens an ELF core (ET_CORE, x86-64; kernel cores and gdb's gcore both) with
 * libelf, mmaps it (a zstd, xz, lz4 or gzip compressed core, recognised by its
 * magic, is decompressed into an anonymous mapping first), and answers reads
 * of target addresses:
 *   1. the PT_LOAD that covers the address, from the core when the offset is
 *      below p_filesz;
 *   2. otherwise the file named in NT_FILE for that address (offsets scaled by
 *      NT_FILE's page-size field: 4096 in kernel cores, 1 in gcore), which is
 *      how text and unmodified read-only file pages are recovered;
 *   3. otherwise, when a PT_LOAD covers the address (anonymous memory the
 *      dumper did not write: a filtered or cut dump), a fault
 *      (image_read_zerofill reads zeros instead and counts them).
 * An address nothing covers is a fault, and so is one whose NT_FILE file is
 * missing or is an ELF file whose build-id differs from the core's copy of
 * its first page (a library updated since the snapshot).  The mappings of
 * the executable are read from the executable given (by recorded path or by
 * basename), so a core can travel with its binary.  Backing files and the
 * core's pread descriptor are opened by image_open*, so reads (image_read,
 * image_ptr, image_pread, image_missing) change nothing.  Passes that read
 * much of the core in address order copy it with pread into a window
 * (image_window) instead of faulting its pages in, and give back what they
 * did map (image_release).  The window is the image's one mutable part:
 * moving it is done by one thread while no other reads through image_ptr or
 * image_read (image_pread, which never looks at it, may run on any thread
 * at any time), and it invalidates what image_ptr returned from it (see
 * image_window_gen).  It also knows the threads
 * (NT_PRSTATUS registers, NT_PRPSINFO name), the auxv, the executable's PIE
 * load bias (AT_ENTRY - e_entry) and build-id, and checks that the executable
 * given is the one the core was taken from.
 *
 * It does not know about types, malloc or symbols (those are the types and
 * heap layers).  Every function that reads target memory bounds-checks it;
 * nothing here trusts a length from the core without checking it against the
 * file size.
 */
#ifndef AGGOP_IMAGE_H
#define AGGOP_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct image;

/* Segment permission bits (from p_flags). */
enum { IMAGE_R = 4, IMAGE_W = 2, IMAGE_X = 1 };

struct image_segment {
	uint64_t start, end;   /* [start, end) in the target's address space */
	uint32_t flags;        /* IMAGE_R | IMAGE_W | IMAGE_X */
	uint64_t filesz;       /* bytes present in the core from start */
	const char *file;      /* NT_FILE path backing (part of) it, or NULL */
	uint64_t file_offset;  /* byte offset in that file of `start`, if file */
};

struct image_thread {
	int pid;               /* LWP id */
	char name[17];         /* from NT_PRPSINFO for the first thread, else "" */
	uint64_t rip, rsp, rbp, fs_base;
	uint64_t regs[27];     /* user_regs_struct, in its order */
};

/* Opens core and executable.  Fails with ERR_INPUT (one line saying what and
 * what to do) when the core is not an x86-64 ELF core, is truncated (a PT_LOAD
 * extends past the end of the file), or the executable's build-id differs
 * from the one recorded in the core (both ids in the message).  exe may be
 * NULL (then no bias or build-id check is possible; image_bias returns 0). */
int image_open(struct image **out, const char *core_path, const char *exe_path,
	       struct err *e);
/* The core alone: the executable is the one the core names (its NT_FILE
 * entry, then AT_EXECFN), used only when a file with the build-id the core
 * holds for it exists at that path (image_exe_path says which).  ERR_INPUT,
 * one line, when the core names none, holds no build-id for it, or nothing
 * with that build-id is there. */
int image_open_auto(struct image **out, const char *core_path, struct err *e);
void image_close(struct image *img);

/* How long a live process was held (image_open_pid). */
struct image_pid_stats {
	double stopped_seconds;  /* first thread stopped -> last thread resumed */
	size_t threads;
	uint64_t bytes;          /* memory copied */
};
/* A running process instead of a core (--pid): every thread is stopped
 * (PTRACE_SEIZE + PTRACE_INTERRUPT), its readable memory, registers and auxv
 * are copied, and every thread is resumed and detached before this returns,
 * whatever happens (SIGINT/SIGTERM to the tool wait until then).  The image
 * then answers like a core's.  exe_path NULL: /proc/PID/exe.  ERR_INPUT, one
 * line, when the process cannot be attached (no such process, another
 * tracer, kernel.yama.ptrace_scope, not root). */
int image_open_pid(struct image **out, int pid, const char *exe_path, struct image_pid_stats *st,
		   struct err *e);

/* Reads len bytes at addr into buf.  ERR_FAULT with e->addr set when any byte
 * is not covered (nothing is partially trusted), and also when a byte lies
 * in a segment but the core does not hold it ("memory not saved in core
 * dump at 0x...": a filtered or cut dump, see image_missing), as drgn's
 * memory reader does: what the process had there is unknown, so it is never
 * read as zeros by default. */
int image_read(const struct image *img, uint64_t addr, void *buf, size_t len,
	       struct err *e);
/* The same, but bytes the core does not hold are read as zeros and counted
 * in *missing (always set, 0 when the core held every byte).  For a caller
 * to which zeros are harmless and that reports the count; an address no
 * segment or file covers is still ERR_FAULT. */
int image_read_zerofill(const struct image *img, uint64_t addr, void *buf, size_t len, uint64_t *missing,
			struct err *e);

/* Fast path: a pointer straight into the window (image_window) or the
 * mmapped core for [addr, addr+len) when that range lies entirely inside
 * it or one PT_LOAD's file-backed part; NULL otherwise (then use
 * image_read, which also handles NT_FILE and the zeros past a mapped file's
 * end).  A pointer into the window is valid until the window moves
 * (image_window_gen). */
const void *image_ptr(const struct image *img, uint64_t addr, size_t len);

/* Gives back the pages of the mmapped core that hold [lo, hi) (whole pages
 * inside the range only): the memory stays readable (a later read faults the
 * page in again from the page cache) but no longer counts in the process's
 * resident set.  For passes that read the core in address order. */
void image_release(const struct image *img, uint64_t lo, uint64_t hi);
/* Copies [lo, hi) of the core (clipped to the file-backed part of lo's
 * segment) into the image's window with pread; until the next call,
 * image_ptr answers reads inside it from the copy.  For a pass about to read
 * much of a range: one copy costs a fraction of the page faults the mmap
 * would take, and counts in no resident set but the window's.  False (and
 * no window) when lo is not in the core or the read fails. */
bool image_window(const struct image *img, uint64_t lo, uint64_t hi);
/* How many times the window was moved (image_window, image_window_swap).
 * A pointer image_ptr returned may point into the window: it is valid only
 * while the generation has not changed, which a caller holding one can
 * assert in a debug build: assert(image_window_gen(img) == gen). */
uint64_t image_window_gen(const struct image *img);
/* Copies up to len bytes at addr from the core file itself with pread (no
 * mapping, no page faults), stopping at the end of addr's segment's
 * file-backed part; the count copied, 0 when addr is not in the core.
 * May run on other threads at the same time as any other reader (the core
 * file was opened by image_open). */
size_t image_pread(const struct image *img, uint64_t addr, void *buf, size_t len);
/* For a pass that reads ahead on a thread of its own: installs len bytes
 * the caller copied with image_pread(img, lo, *buf, ...) as the window, as
 * image_window(img, lo, lo + len) would have, and hands the window's old
 * buffer back in *buf and *cap (possibly NULL and 0) for the next read.
 * False (no window, *buf and *cap unchanged) when [lo, lo + len) is not the
 * file-backed part of one segment or len exceeds *cap. */
bool image_window_swap(const struct image *img, uint64_t lo, size_t len, uint8_t **buf, size_t *cap);

/* Convenience: one little-endian u64 / u32 / u16 / u8.  Same errors as
 * image_read. */
int image_read_u64(const struct image *img, uint64_t addr, uint64_t *v, struct err *e);
int image_read_u32(const struct image *img, uint64_t addr, uint32_t *v, struct err *e);

/* How many bytes of [addr, addr+len) are missing from the core: inside a
 * PT_LOAD but past what the core holds of it, with no file behind them
 * (a truncated or filtered dump).  image_read faults on them,
 * image_read_zerofill reads zeros. */
uint64_t image_missing(const struct image *img, uint64_t addr, uint64_t len);

/* True when every byte of [addr, addr+len) was mapped in the process (len
 * 0: addr mapped): a segment or a mapped file covers it, whether or not the
 * core holds its bytes (image_missing says which it lacks; image_read
 * faults on those). */
bool image_mapped(const struct image *img, uint64_t addr, uint64_t len);

/* The segments (PT_LOADs, sorted by start). */
size_t image_segment_count(const struct image *img);
const struct image_segment *image_segment(const struct image *img, size_t i);
/* The segment containing addr, or NULL. */
const struct image_segment *image_segment_at(const struct image *img, uint64_t addr);

size_t image_thread_count(const struct image *img);
const struct image_thread *image_thread(const struct image *img, size_t i);

/* PIE load bias of the executable (0 for a non-PIE or when exe was NULL). */
uint64_t image_bias(const struct image *img);

/* An auxv entry's value; false when the core has no such entry. */
bool image_auxv(const struct image *img, uint64_t type, uint64_t *val);

/* Build-id of the executable as recorded in the core, as lowercase hex ("" if
 * none was found).  */
const char *image_core_build_id(const struct image *img);
/* Build-id of the executable file ("" if it has none). */
const char *image_exe_build_id(const struct image *img);
/* One line on the build-id check: "build-id X matches", or "not checked: "
 * and why (the core lacks the executable's first page, the executable has no
 * build-id, no executable was given), for main to show as a warning. */
const char *image_build_id_check(const struct image *img);
/* The same as a status: whether the executable's build-id was checked
 * against the core's (a mismatch fails image_open). */
enum image_build_id_state { IMAGE_BUILD_ID_NOT_CHECKED, IMAGE_BUILD_ID_MATCHES };
enum image_build_id_state image_build_id_state(const struct image *img);

/* The compression the core file was read through ("zstd", "xz", "lz4",
 * "gzip", recognised by magic), or NULL for a plain ELF core. */
const char *image_core_compression(const struct image *img);

/* Whether the first n bytes of a file are those of a core this layer
 * opens: ELF, or a zstd / xz / lz4 / gzip stream (checked when opened). */
bool image_looks_like_core(const uint8_t *head, size_t n);

/* The process id of a live image (image_open_pid), else 0. */
int image_pid(const struct image *img);

/* "kernel" or "gcore" (gcore writes a NT_GDB_TDESC note / SIGINFO 19 ...). */
const char *image_core_kind(const struct image *img);   /* "live" for a process */

/* The core's ELF machine (e_machine; only EM_X86_64 cores are opened). */
uint16_t image_machine(const struct image *img);

/* Size of the core file in bytes. */
uint64_t image_core_size(const struct image *img);

/* Paths of the core and the executable as given. */
const char *image_core_path(const struct image *img);
const char *image_exe_path(const struct image *img);

#endif
