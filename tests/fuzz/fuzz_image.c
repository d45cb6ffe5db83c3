/* fuzz_image.c: the core reader (src/image*.c) on hostile cores.
 *
 * Input: a whole core file.  It is opened twice, without an executable and
 * with the C probe's (build/fixtures/probes/c/exe, when present: the seeds
 * are trimmed cores of that probe, so the build-id check, the PIE bias and
 * the NT_FILE fallback run), and every reader is exercised: each segment's
 * edges, ranges across segments, the missing-byte count, the pread window,
 * the threads' stacks and the auxv's addresses, plus addresses taken from
 * the input's last bytes.  Seeds: tests/fuzz/corpus/image (trimmed kernel
 * and gdb cores, see mkseeds.sh). */
#include "fuzz.h"
#include "image.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct fuzz_file core;
static char exe[4096];

int fuzz_init(void)
{
	snprintf(exe, sizeof exe, "%s", fuzz_fixture("probes/c/exe"));
	if (access(exe, R_OK) != 0)
		exe[0] = '\0'; /* then only the open without an executable runs */
	return fuzz_file_init(&core, "fuzz-core");
}

static void read_at(const struct image *img, uint64_t addr, size_t len)
{
	uint8_t buf[256];
	struct err e;
	if (len > sizeof buf)
		len = sizeof buf;
	image_read(img, addr, buf, len, &e);
	uint64_t missing;
	image_read_zerofill(img, addr, buf, len, &missing, &e);
	image_ptr(img, addr, len);
	image_missing(img, addr, len);
	image_mapped(img, addr, len);
	uint64_t v;
	uint32_t w;
	image_read_u64(img, addr, &v, &e);
	image_read_u32(img, addr, &w, &e);
}

static void exercise(const struct image *img, const uint8_t *data, size_t size)
{
	size_t n = image_segment_count(img);
	uint8_t buf[512];
	for (size_t i = 0; i < n && i < 256; i++) {
		const struct image_segment *s = image_segment(img, i);
		uint64_t len = s->end - s->start;
		read_at(img, s->start, 64);
		read_at(img, s->end - 8, 16);     /* across the end */
		read_at(img, s->start + s->filesz - 4, 8);
		image_missing(img, s->start, len);
		image_mapped(img, s->start, len);
		image_segment_at(img, s->start + len / 2);
		image_pread(img, s->start, buf, sizeof buf);
		if (image_window(img, s->start, s->start + (len < 65536 ? len : 65536))) {
			read_at(img, s->start + 8, 32);
			image_release(img, s->start, s->end);
		}
	}
	image_window(img, 0, 0); /* drop the window: reads go to the core again */
	for (size_t i = 0; i < image_thread_count(img) && i < 64; i++) {
		const struct image_thread *t = image_thread(img, i);
		read_at(img, t->rsp, 128);
		read_at(img, t->rip, 16);
		read_at(img, t->fs_base, 64);
	}
	static const uint64_t auxv[] = {AT_PHDR, AT_ENTRY, AT_BASE, AT_SYSINFO_EHDR, AT_RANDOM, AT_EXECFN,
					AT_PLATFORM};
	for (size_t i = 0; i < sizeof auxv / sizeof auxv[0]; i++) {
		uint64_t v;
		if (image_auxv(img, auxv[i], &v))
			read_at(img, v, 64);
	}
	/* addresses from the input: the last 64 bytes, 8 at a time */
	for (size_t o = size > 64 ? size - 64 : 0; o + 8 <= size; o += 8)
		read_at(img, fuzz_rd64(data + o), 200);
	(void)image_core_build_id(img);
	(void)image_exe_build_id(img);
	(void)image_build_id_check(img);
	(void)image_core_kind(img);
	(void)image_bias(img);
	(void)image_machine(img);
	(void)image_core_size(img);
}

void fuzz_one(const uint8_t *data, size_t size)
{
	struct image *img;
	struct err e;

	if (fuzz_file_set(&core, data, size))
		return;
	if (image_open(&img, core.path, NULL, &e) == 0) {
		exercise(img, data, size);
		image_close(img);
	}
	if (exe[0] && image_open(&img, core.path, exe, &e) == 0) {
		exercise(img, data, size);
		image_close(img);
	}
}

int fuzz_base(const uint8_t **data, size_t *size)
{
	(void)data;
	(void)size;
	return -1;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A value for a size, offset or address word: near v, a boundary, or
 * another word of the same structure. */
static uint64_t nearby(uint64_t v, uint64_t other, uint64_t size, uint64_t *r)
{
	switch (rnd(r) % 12) {
	case 0: return 0;
	case 1: return v + 1 + rnd(r) % 16;
	case 2: return v - 1 - rnd(r) % 16;
	case 3: return v + 4096;
	case 4: return v - 4096;
	case 5: return other;
	case 6: return size;
	case 7: return size - rnd(r) % 64;
	case 8: return (uint64_t)1 << (rnd(r) % 64);
	case 9: return ~(uint64_t)0 - rnd(r) % 16;
	case 10: return v ^ ((uint64_t)1 << (rnd(r) % 64));
	default: return v * 2;
	}
}

/* The structure-aware mutator: the ELF header's program header fields, a
 * program header's type, flags, offset, address and sizes, a note's header
 * (name and descriptor sizes, type) or one of its descriptor's words
 * (NT_FILE counts and ranges, auxv values, registers); otherwise
 * libFuzzer's byte mutations over the whole core. */
size_t fuzz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes)
{
	uint64_t r = seed * 0x9e3779b97f4a7c15ull + 1;
	Elf64_Ehdr eh;
	if (size < sizeof eh || rnd(&r) % 4 == 0)
		return bytes(data, size, max);
	memcpy(&eh, data, sizeof eh);
	uint64_t k = rnd(&r) % 16;
	if (k == 0) {
		uint64_t v = nearby(eh.e_phnum, eh.e_phnum + 1, 0xffff, &r);
		eh.e_phnum = (Elf64_Half)(rnd(&r) % 2 ? v : (uint64_t)eh.e_phnum + 1);
		memcpy(data, &eh, sizeof eh);
		return size;
	}
	if (k == 1) {
		eh.e_phoff = nearby(eh.e_phoff, eh.e_shoff, size, &r);
		memcpy(data, &eh, sizeof eh);
		return size;
	}
	if (eh.e_phoff > size || eh.e_phnum == 0 || (size - eh.e_phoff) / sizeof(Elf64_Phdr) < 1)
		return bytes(data, size, max);
	size_t nph = (size - eh.e_phoff) / sizeof(Elf64_Phdr);
	if (nph > eh.e_phnum)
		nph = eh.e_phnum;
	size_t i = rnd(&r) % nph;
	uint8_t *pp = data + eh.e_phoff + i * sizeof(Elf64_Phdr);
	Elf64_Phdr ph, other;
	memcpy(&ph, pp, sizeof ph);
	memcpy(&other, data + eh.e_phoff + (rnd(&r) % nph) * sizeof ph, sizeof other);
	if (ph.p_type == PT_NOTE && k < 10 && ph.p_offset < size && ph.p_filesz >= 12 &&
	    ph.p_filesz <= size - ph.p_offset) {
		/* a note: walk to a random one of them */
		uint8_t *n = data + ph.p_offset, *end = n + ph.p_filesz;
		size_t skip = rnd(&r) % 8;
		while (skip-- && end - n >= 12) {
			uint32_t h[3];
			memcpy(h, n, sizeof h);
			size_t adv = 12 + ((h[0] + 3ull) & ~3ull) + ((h[1] + 3ull) & ~3ull);
			if (adv > (size_t)(end - n) || end - n - adv < 12)
				break;
			n += adv;
		}
		uint32_t h[3];
		memcpy(h, n, sizeof h);
		size_t descoff = 12 + ((h[0] + 3ull) & ~3ull);
		if (k < 6 || descoff + 8 > (size_t)(end - n) || h[1] < 8) {
			size_t w = rnd(&r) % 3;
			static const uint32_t types[] = {1, 2, 3, 4, 6, 0x46494c45u, 0x53494749u, 0x200, 0x202};
			h[w] = w == 2 && rnd(&r) % 2 ? types[rnd(&r) % (sizeof types / sizeof types[0])]
						      : (uint32_t)nearby(h[w], h[(w + 1) % 2], ph.p_filesz, &r);
			memcpy(n, h, sizeof h);
			return size;
		}
		size_t words = (h[1] < end - n - descoff ? h[1] : (size_t)(end - n - descoff)) / 8;
		uint8_t *wp = n + descoff + 8 * (rnd(&r) % words);
		uint64_t v, o;
		memcpy(&v, wp, 8);
		memcpy(&o, n + descoff + 8 * (rnd(&r) % words), 8);
		v = nearby(v, o, size, &r);
		memcpy(wp, &v, 8);
		return size;
	}
	switch (rnd(&r) % 7) {
	case 0: {
		static const uint32_t types[] = {PT_LOAD, PT_NOTE, PT_NULL, PT_DYNAMIC, PT_GNU_STACK};
		ph.p_type = types[rnd(&r) % (sizeof types / sizeof types[0])];
		break;
	}
	case 1: ph.p_flags = (uint32_t)(rnd(&r) % 8); break;
	case 2: ph.p_offset = nearby(ph.p_offset, other.p_offset, size, &r); break;
	case 3: ph.p_vaddr = nearby(ph.p_vaddr, other.p_vaddr + other.p_memsz, size, &r); break;
	case 4: ph.p_filesz = nearby(ph.p_filesz, ph.p_memsz, size - ph.p_offset, &r); break;
	case 5: ph.p_memsz = nearby(ph.p_memsz, ph.p_filesz, size, &r); break;
	default: ph = other; break; /* two headers alike: overlaps, twins */
	}
	memcpy(pp, &ph, sizeof ph);
	return size;
}

int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/core", dir);
	if (!exe[0] || fuzz_write(path, data, size))
		return -1;
	fprintf(args, "heap\n%s\n%s\n", path, exe);
	return 0;
}
