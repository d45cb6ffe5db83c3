/* image_priv.h: the image layer's private state, shared by src/image.c (open,
 * segments, reads), src/image_notes.c (the core's notes: threads, auxv,
 * NT_FILE, core kind) and src/image_exe.c (the executable: PIE bias and the
 * build-id check).  Nothing outside src/image*.c includes this.
 *
 * Everything here points into three kinds of memory: the read-only mmap of
 * the core, the read-only mmap of the executable, and read-only mmaps of the
 * files NT_FILE names (opened by image_open*, after the executable).  image_close releases all three.
 */
#ifndef AGGOP_IMAGE_PRIV_H
#define AGGOP_IMAGE_PRIV_H

#include "image.h"

/* x86-64 page size: the granule of mappings and of the zero fill past a
 * mapped file's end (the kernel maps the tail of the last page as zeros). */
#define IMAGE_PAGE 4096u

/* NT_PRSTATUS on x86-64 (linux/elfcore.h struct elf_prstatus): pr_pid at
 * +32, pr_reg (struct user_regs_struct, 27 u64s) at +112, 336 bytes in all. */
#define IMAGE_PRSTATUS_PID 32
#define IMAGE_PRSTATUS_REGS 112
#define IMAGE_PRSTATUS_MIN (IMAGE_PRSTATUS_REGS + 27 * 8)
/* user_regs_struct indexes (sys/user.h). */
enum { IMAGE_REG_RBP = 4, IMAGE_REG_RIP = 16, IMAGE_REG_RSP = 19, IMAGE_REG_FS_BASE = 21 };
/* NT_PRPSINFO (struct elf_prpsinfo): pr_fname[16] at +40. */
#define IMAGE_PRPSINFO_FNAME 40

/* Note types not in every elf.h. */
#define IMAGE_NT_FILE 0x46494c45u          /* "FILE" */
/* gdb's target description; binutils include/elf/common.h NT_GDB_TDESC.
 * gcore writes it, the kernel never does. */
#define IMAGE_NT_GDB_TDESC 0xff000000u
#define IMAGE_NT_X86_XSAVE_LAYOUT 0x205u   /* kernel >= 6.x */
#define IMAGE_NT_GNU_BUILD_ID 3u

/* Longest build-id we keep (sha1 is 20 bytes; allow up to 64). */
#define IMAGE_BUILD_ID_MAX 64

/* A PT_LOAD: the public part first, so image_segment() can hand it out. */
struct image_seg {
	struct image_segment pub;
	uint64_t offset; /* p_offset: pub.filesz bytes of it are in the core */
};

/* A file NT_FILE names, opened and mmapped at open (image_files_open). */
enum image_file_state { IMAGE_FILE_UNTRIED, IMAGE_FILE_OPEN, IMAGE_FILE_FAILED };
struct image_file {
	const char *path;   /* as recorded in the core (points into the core) */
	enum image_file_state state;
	bool is_exe;        /* backed by the executable given, not by path */
	int errnum;         /* why opening failed (0: it opened, but see stale) */
	bool stale;         /* an ELF file whose build-id is not the core's copy's */
	const uint8_t *map; /* read-only mmap (NULL when size is 0) */
	uint64_t size;
};

/* One NT_FILE entry: [start, end) maps files[file] from byte offset. */
struct image_map {
	uint64_t start, end, offset;
	size_t file;
};

/* What image_open learned from the executable given. */
struct image_exe {
	const uint8_t *map;
	uint64_t size;
	uint16_t type;       /* ET_EXEC or ET_DYN */
	uint64_t entry;      /* e_entry */
	uint64_t phoff;      /* e_phoff */
	bool have_phdr_vaddr;
	uint64_t phdr_vaddr; /* link-time address of the program headers */
};

/* A PT_NOTE of the core (checked to lie inside the file). */
struct image_note_seg {
	uint64_t offset, size;
};

/* A copy of part of the core, read with pread (image_window): image_ptr
 * answers from it before the mmapped core.  Reached through a pointer so
 * that a const image can move it: the image's one mutable part, used by
 * one thread (image.h, image_window). */
struct image_win {
	int fd;               /* the core for image_pread, opened at open; -1: none */
	uint8_t *buf;
	size_t cap;
	uint64_t lo, len;     /* it holds target addresses [lo, lo + len) */
	uint64_t gen;         /* moves so far (image_window_gen) */
};

struct image {
	char *core_path, *exe_path;
	const uint8_t *core;
	uint64_t core_size;
	/* The core's bytes live in an anonymous mapping (a decompressed core, or
	 * the copy of a live process): never dropped with madvise (that would
	 * zero them) and read with memcpy instead of pread. */
	bool core_anon;
	const char *zformat;       /* "zstd", "xz", ... for a compressed core; NULL */
	/* A live process (--pid, image_pid.c): its id, and what the copy owns
	 * (the maps text the file paths point into, the auxv). */
	int pid;
	char *owned_text;
	uint8_t *owned_auxv;
	uint64_t bytes_copied;
	uint16_t machine;          /* the core's ELF e_machine */
	struct image_win *win;

	struct image_note_seg *note_segs;
	size_t nnote_segs;

	struct image_seg *segs; /* sorted by start, disjoint */
	size_t nsegs;
	struct image_map *maps; /* sorted by start */
	size_t nmaps;
	struct image_file *files;
	size_t nfiles;
	uint64_t nt_file_page; /* NT_FILE's page-size field */

	struct image_thread *threads;
	size_t nthreads;
	char process_name[17];
	const uint8_t *auxv; /* NT_AUXV pairs, in the core */
	size_t nauxv;
	bool gdb_tdesc;      /* a NT_GDB_TDESC note: gcore wrote this core */

	struct image_exe exe;
	bool have_exe;
	size_t exe_file; /* files[] index of the recorded executable, or nfiles */
	uint64_t bias;
	char core_build_id[2 * IMAGE_BUILD_ID_MAX + 1];
	char exe_build_id[2 * IMAGE_BUILD_ID_MAX + 1];
	char build_id_check[512];
	enum image_build_id_state build_id_state;
};

/* One ELF note, as an iterator over a bounded buffer yields it. */
struct image_note {
	const char *name;   /* namesz bytes, not necessarily NUL-terminated */
	uint32_t namesz, type;
	const uint8_t *desc;
	uint32_t descsz;
};

/* Iterates the notes in [p, p+len) with the given alignment (4 or 8).
 * Returns 1 with *n filled and *off advanced, 0 at the end, or -1 when a
 * note's sizes run past the buffer. */
int image_note_next(const uint8_t *p, uint64_t len, uint64_t align, uint64_t *off,
		    struct image_note *n);
bool image_note_is(const struct image_note *n, const char *name, uint32_t type);
/* Lowercase hex of a GNU build-id note's descriptor into out ("" if empty). */
void image_build_id_hex(const uint8_t *id, size_t len, char *out);

/* Lowest address at which files[f] is mapped from offset 0, or false. */
bool image_file_base(const struct image *img, size_t f, uint64_t *base);
/* Build-id (hex into out, 2*IMAGE_BUILD_ID_MAX+1 bytes) of the ELF file whose
 * header page is mapped at base, read only from bytes the core holds: 1
 * found, 0 no build-id note, -1 the core lacks the header page. */
int image_core_page_build_id(const struct image *img, uint64_t base, char *out);
/* The same from an ELF file's bytes: 1 found, 0 none, -1 not a 64-bit ELF. */
int image_file_build_id(const uint8_t *map, uint64_t size, char *out);

/* Parses the core's PT_NOTE segments into img (threads, auxv, NT_FILE maps
 * and files, core kind).  ERR_INPUT when a note is malformed. */
int image_notes_load(struct image *img, struct err *e);

/* Opens exe_path, computes the bias, reads both build-ids and refuses a
 * mismatch (ERR_INPUT). */
int image_exe_load(struct image *img, const char *exe_path, struct err *e);
void image_exe_unload(struct image *img);
/* The executable the core names (NT_FILE's entry for it, then AT_EXECFN)
 * when a file with the core's build-id for it exists there: its path in out.
 * ERR_INPUT (one line) otherwise. */
int image_exe_find(struct image *img, char *out, size_t outsz, struct err *e);

/* mmaps a regular file read-only; *size 0 leaves *map NULL.  Returns 0, an
 * errno value, or IMAGE_NOT_REGULAR. */
#define IMAGE_NOT_REGULAR (-1)
int image_map_file(const char *path, const uint8_t **map, uint64_t *size);
/* "an ELF executable", ... for messages about the wrong kind of file. */
const char *image_elf_kind(unsigned e_type);
/* Text for image_map_file's result. */
const char *image_map_error(int rc);

/* The compression format whose magic p starts with ("zstd", "xz", "lz4",
 * "gzip"), or NULL. */
const char *image_zcore_kind(const uint8_t *p, uint64_t n);
/* Decompresses the n bytes at in (one of those formats) into a private
 * read-only anonymous mapping of *out_size bytes (munmap it).  ERR_INPUT
 * with one line when the stream is truncated or corrupt, or does not fit in
 * memory. */
int image_zcore_decompress(const char *path, const uint8_t *in, uint64_t n, const uint8_t **out,
			   uint64_t *out_size, struct err *e);

/* image_pid.c: stops every thread of pid, copies its memory, registers and
 * auxv into img (segments, file maps, threads), and resumes and detaches
 * every thread, on every path.  ERR_INPUT with one line when the process
 * cannot be attached (no such process, another tracer, ptrace_scope,
 * permissions). */
int image_pid_load(struct image *img, int pid, struct image_pid_stats *st, struct err *e);

/* Index of the first element whose start is > addr, over arrays sorted by
 * start (so the candidate containing addr is the one before it). */
size_t image_seg_upper(const struct image *img, uint64_t addr);
size_t image_map_upper(const struct image *img, uint64_t addr);

#endif
