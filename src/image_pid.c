/* image_pid.c: a running process as an image, without writing a core.
 *
 * Every thread is stopped with PTRACE_SEIZE + PTRACE_INTERRUPT (the task list
 * in /proc/PID/task is read again until a pass finds no new thread), then,
 * while it is stopped, the tool copies what a core would hold: the readable
 * mappings of /proc/PID/maps (process_vm_readv, one call per mapping, into
 * one private anonymous mapping), the registers of every thread
 * (PTRACE_GETREGS), the auxv (/proc/PID/auxv) and the name (/proc/PID/comm).
 * Then every thread is detached (and resumed) before anything is walked: the
 * process is stopped for the copy only, which is a memory-to-memory copy,
 * where gcore writes the same bytes to disk.  The walk then reads the copy
 * through the same struct image a core gives (segments, the file mappings
 * as NT_FILE would list them, threads, auxv), so nothing above this layer
 * knows the difference.
 *
 * Never leaving the process stopped or traced:
 *   - SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked while any thread is
 *     attached, and the mask is restored after the last detach: a signal
 *     sent to the tool then ends it with every thread already resumed (no
 *     handler, no global state);
 *   - every error path detaches what was attached;
 *   - a tool killed outright (SIGKILL, a crash) is detached by the kernel
 *     when the tracer exits, and PTRACE_SEIZE's interrupt stop is not a
 *     group stop, so the threads run on.
 * A signal that arrived for a thread while it was held (a signal-delivery
 * stop instead of the interrupt stop) is handed back on detach.
 *
 * The process is hostile input like a core: the maps lines are parsed with
 * bounds, the number of threads and mappings is capped, mappings marked
 * VM_DONTDUMP are not copied (the dumpers skip them too: ASan's shadow is
 * terabytes), the copy is bounded by physical memory, and a mapping that
 * cannot be read (a file mapping past the file's end, [vvar]) keeps only
 * what was read; the rest reads from the mapped file or counts as missing.
 */
#include "image_priv.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bounds on what a process may present. */
#define PID_MAX_THREADS 65536u
#define PID_MAX_MAPS 1000000u
#define PID_MAX_ROUNDS 64

struct pid_thread {
	int tid;
	int sig;        /* a signal to hand back on detach, 0 none */
	bool attached;
};

struct pid_ctx {
	int pid;
	struct pid_thread *t;
	size_t n, cap;
	sigset_t old_mask;
	struct timespec t0, t1;
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Reads a small /proc file whole into buf (NUL-terminated); its length, or
 * -1 with errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got + 1 < size) {
		ssize_t r = read(fd, buf + got, size - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	return (ssize_t)got;
}

/* A whole /proc file of any size into a malloc'd buffer (*len bytes). */
static char *read_all(const char *path, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 65536, got = 0;
	char *b = malloc(cap + 1);
	while (b) {
		if (got == cap) {
			char *nb = cap < max ? realloc(b, cap * 2 + 1) : NULL;
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			b = NULL;
		}
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (b) {
		b[got] = 0;
		*len = got;
	}
	return b;
}

/* TracerPid from /proc/PID/status (0 when untraced or unreadable). */
static long tracer_of(int pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_small(path, buf, sizeof buf) < 0)
		return 0;
	const char *t = strstr(buf, "\nTracerPid:");
	return t ? strtol(t + 11, NULL, 10) : 0;
}

/* One clear line for a refused PTRACE_SEIZE. */
static int seize_refused(int pid, int err, struct err *e)
{
	char buf[64];
	long tracer = tracer_of(pid);
	if (err == ESRCH)
		return err_set(e, ERR_INPUT, "no process %d (it exited, or the pid is wrong)", pid);
	if (tracer > 0)
		return err_set(e, ERR_INPUT,
			       "process %d is already traced by process %ld (a debugger or strace); detach it first", pid,
			       tracer);
	long scope = read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf) > 0 ? strtol(buf, NULL, 10) : 0;
	if (scope >= 3)
		return err_set(e, ERR_INPUT,
			       "cannot attach to process %d: ptrace is disabled on this machine (kernel.yama.ptrace_scope = 3, "
			       "only a reboot lowers it); take a core with systemd-coredump instead", pid);
	if (geteuid() != 0 && scope >= 1)
		return err_set(e, ERR_INPUT,
			       "cannot attach to process %d: kernel.yama.ptrace_scope = %ld allows only root (or CAP_SYS_PTRACE) "
			       "to attach to a process that is not its child; run as root", pid, scope);
	if (geteuid() != 0)
		return err_set(e, ERR_INPUT,
			       "cannot attach to process %d: %s (it belongs to another user, or is not dumpable); run as its "
			       "user or as root", pid, strerror(err));
	return err_set(e, ERR_INPUT, "cannot attach to process %d: %s", pid, strerror(err));
}

static void detach_all(struct pid_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->t[i].attached) {
			ptrace(PTRACE_DETACH, c->t[i].tid, NULL, (void *)(intptr_t)c->t[i].sig);
			c->t[i].attached = false;
		}
	clock_gettime(CLOCK_MONOTONIC, &c->t1);
	sigprocmask(SIG_SETMASK, &c->old_mask, NULL);
}

static bool known(const struct pid_ctx *c, int tid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->t[i].tid == tid)
			return true;
	return false;
}

/* Seizes and interrupts one thread and waits for its stop.  0, 1 when the
 * thread is gone (it exited meanwhile), or an error. */
static int stop_one(struct pid_ctx *c, int tid, struct err *e)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct pid_thread *nt = ncap <= PID_MAX_THREADS ? realloc(c->t, ncap * sizeof *nt) : NULL;
		if (!nt)
			return err_set(e, ERR_INPUT, "process %d has more threads than this tool handles (%u)", c->pid,
				       PID_MAX_THREADS);
		c->t = nt;
		c->cap = ncap;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
		if (errno == ESRCH && tid != c->pid)
			return 1;
		return seize_refused(c->pid, errno, e);
	}
	struct pid_thread *t = &c->t[c->n++];
	*t = (struct pid_thread){.tid = tid, .attached = true};
	if (c->n == 1)
		clock_gettime(CLOCK_MONOTONIC, &c->t0);
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0)
		return errno == ESRCH ? (t->attached = false, 1)
				      : err_set(e, ERR_IO, "PTRACE_INTERRUPT of thread %d: %s", tid, strerror(errno));
	for (;;) {
		int st;
		pid_t w = waitpid(tid, &st, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(e, ERR_IO, "waiting for thread %d to stop: %s", tid, strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->attached = false;
			return 1;
		}
		if (!WIFSTOPPED(st))
			continue;
		/* The interrupt's stop is PTRACE_EVENT_STOP; any other stop is a
		 * signal about to be delivered: keep it for the detach. */
		if ((st >> 16) != PTRACE_EVENT_STOP)
			t->sig = WSTOPSIG(st);
		return 0;
	}
}

/* Stops every thread: reads /proc/PID/task until a pass finds none new. */
static int stop_all(struct pid_ctx *c, struct err *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", c->pid);
	/* The main thread first: a core lists it first, and its refusal says why. */
	int rc = stop_one(c, c->pid, e);
	if (rc)
		return rc < 0 || rc == 1 ? err_set(e, ERR_INPUT, "no process %d (it exited)", c->pid) : rc;
	for (int round = 0; round < PID_MAX_ROUNDS; round++) {
		DIR *d = opendir(path);
		if (!d)
			return err_set(e, ERR_INPUT, "cannot list the threads of process %d: %s", c->pid, strerror(errno));
		bool fresh = false;
		struct dirent *de;
		while (!rc && (de = readdir(d))) {
			char *end;
			long tid = strtol(de->d_name, &end, 10);
			if (*end || tid <= 0 || tid > INT32_MAX || known(c, (int)tid))
				continue;
			rc = stop_one(c, (int)tid, e);
			if (rc == 1)
				rc = 0;
			fresh = true;
		}
		closedir(d);
		if (rc)
			return rc;
		if (!fresh)
			return 0;
	}
	return err_set(e, ERR_INPUT, "process %d keeps starting threads; the thread list never settled", c->pid);
}

/* ---------------------------------------------------------------- memory */

struct pid_map {
	uint64_t start, end, offset;
	uint32_t flags;
	bool readable, special;   /* special: [vvar], [vsyscall], VM_DONTDUMP: not copied */
	size_t path;              /* offset into the strings, or SIZE_MAX */
};

/* Parses /proc/PID/maps: "start-end perms offset dev inode   path". */
static int parse_maps(char *text, struct pid_map **out, size_t *n, struct err *e, int pid)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		uint64_t s, en, off;
		char perms[8];
		int pos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &s, &en, perms, &off, &pos) < 4 ||
		    en <= s || strlen(perms) < 4)
			return err_set(e, ERR_INPUT, "process %d: cannot parse /proc/%d/maps line \"%.80s\"", pid, pid, line);
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct pid_map *nm = ncap <= PID_MAX_MAPS ? realloc(*out, ncap * sizeof *nm) : NULL;
			if (!nm)
				return err_set(e, ERR_NOMEM, "process %d: too many mappings", pid);
			*out = nm;
			cap = ncap;
		}
		const char *path = pos > 0 ? line + pos : "";
		struct pid_map *m = &(*out)[(*n)++];
		*m = (struct pid_map){.start = s, .end = en, .offset = off,
				      .flags = (perms[0] == 'r' ? IMAGE_R : 0) | (perms[1] == 'w' ? IMAGE_W : 0) |
					       (perms[2] == 'x' ? IMAGE_X : 0),
				      .readable = perms[0] == 'r',
				      .special = strcmp(path, "[vvar]") == 0 || strcmp(path, "[vsyscall]") == 0 ||
						 strcmp(path, "[vvar_vclock]") == 0,
				      .path = path[0] == '/' ? (size_t)(path - text) : SIZE_MAX};
	}
	return 0;
}

/* The start addresses of the mappings marked VM_DONTDUMP ("dd" in smaps'
 * VmFlags: MADV_DONTDUMP, e.g. ASan's terabytes of shadow, or a JVM's
 * reservations), which neither the kernel nor gcore dump: not copied
 * either.  Read before the stop (smaps walks the page tables, which costs
 * time proportional to the process's size); sorted ascending. */
struct pid_dd {
	uint64_t *start;
	size_t n;
};

static void dd_load(int pid, struct pid_dd *dd)
{
	char path[64];
	size_t len = 0, cap = 0;
	snprintf(path, sizeof path, "/proc/%d/smaps", pid);
	char *text = read_all(path, &len, (size_t)1 << 31);
	uint64_t cur = 0;
	dd->start = NULL;
	dd->n = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		uint64_t s, en;
		/* a mapping's header starts with its lowercase hex start; the
		 * fields ("Rss:", "VmFlags:") with a capital letter */
		if (((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &s, &en) == 2)
			cur = s;
		else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " dd")) {
			if (dd->n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				uint64_t *ns = ncap <= PID_MAX_MAPS ? realloc(dd->start, ncap * sizeof *ns) : NULL;
				if (!ns)
					break;
				dd->start = ns;
				cap = ncap;
			}
			dd->start[dd->n++] = cur;
		}
	}
	free(text);
}

static bool dd_has(const struct pid_dd *dd, uint64_t start)
{
	size_t lo = 0, hi = dd->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dd->start[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < dd->n && dd->start[lo] == start;
}

static void dd_mark(struct pid_map *pm, size_t n, const struct pid_dd *dd)
{
	for (size_t i = 0; i < n; i++)
		if (dd_has(dd, pm[i].start))
			pm[i].special = true;
}

static uint64_t readable_total(const struct pid_map *pm, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (pm[i].readable && !pm[i].special)
			total += pm[i].end - pm[i].start;
	return total;
}

/* The destination of the copy, reserved and faulted in before the process
 * is stopped: faulting a gigabyte of fresh pages costs more than copying
 * into them, and that cost is the tool's, not the process's.  Huge pages
 * where the kernel allows (THP "madvise"). */
struct pid_buf {
	uint8_t *buf;
	size_t cap;
};

static void buf_prefault(uint8_t *p, size_t len)
{
	madvise(p, len, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	for (size_t o = 0; o < len; o += 4096)
		p[o] = 0;
}

static void buf_reserve(struct pid_buf *b, uint64_t want)
{
	b->buf = NULL;
	b->cap = 0;
	if (want == 0 || want > SIZE_MAX / 2)
		return;
	void *p = mmap(NULL, (size_t)want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;
	buf_prefault(p, (size_t)want);
	b->buf = p;
	b->cap = (size_t)want;
}

/* Copies the readable mappings into the buffer (grown if the process
 * mapped more since it was reserved); fills segments, file maps and files
 * (paths point into img->owned_text). */
static int copy_memory(struct image *img, struct pid_map *pm, size_t n, struct pid_buf *pb, struct err *e)
{
	uint64_t total = readable_total(pm, n);
	img->segs = calloc(n ? n : 1, sizeof *img->segs);
	img->maps = calloc(n ? n : 1, sizeof *img->maps);
	img->files = calloc(n ? n : 1, sizeof *img->files);
	if (!img->segs || !img->maps || !img->files)
		return err_set(e, ERR_NOMEM, "out of memory for %zu mappings", n);
	if (total > pb->cap) {
		void *p = pb->buf ? mremap(pb->buf, pb->cap, (size_t)total, MREMAP_MAYMOVE)
				  : mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return err_set(e, ERR_NOMEM, "cannot reserve %llu bytes for the copy of process %d's memory",
				       (unsigned long long)total, img->pid);
		pb->buf = p;
		pb->cap = (size_t)total;
	}
	uint8_t *buf = pb->buf;
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		struct pid_map *m = &pm[i];
		uint64_t len = m->end - m->start, got = 0;
		if (m->readable && !m->special) {
			/* One call per mapping; a short count stops at the first page
			 * that cannot be read (a file mapping past its file's end). */
			while (got < len) {
				uint64_t want = len - got > (1u << 30) ? (1u << 30) : len - got;
				struct iovec lo = {buf + off + got, want}, re = {(void *)(uintptr_t)(m->start + got), want};
				ssize_t r = process_vm_readv(img->pid, &lo, 1, &re, 1, 0);
				if (r <= 0)
					break;
				got += (uint64_t)r;
				if ((uint64_t)r < want)
					break;
			}
		}
		img->segs[img->nsegs++] = (struct image_seg){
			.pub = {.start = m->start, .end = m->end, .flags = m->flags, .filesz = got}, .offset = off};
		if (m->readable && !m->special)
			off += len;
		if (m->path != SIZE_MAX) {
			const char *p = img->owned_text + m->path;
			if (img->nfiles == 0 || strcmp(img->files[img->nfiles - 1].path, p) != 0)
				img->files[img->nfiles++].path = p;
			img->maps[img->nmaps++] = (struct image_map){m->start, m->end, m->offset, img->nfiles - 1};
		}
	}
	img->bytes_copied = off;
	return 0;
}

/* The threads' registers and the process's name and auxv, while stopped. */
static int copy_state(struct image *img, struct pid_ctx *c, struct err *e)
{
	char path[64], comm[64];
	img->threads = calloc(c->n ? c->n : 1, sizeof *img->threads);
	if (!img->threads)
		return err_set(e, ERR_NOMEM, "out of memory for %zu threads", c->n);
	for (size_t i = 0; i < c->n; i++) {
		struct user_regs_struct r;
		if (!c->t[i].attached || ptrace(PTRACE_GETREGS, c->t[i].tid, NULL, &r) != 0)
			continue;
		struct image_thread *t = &img->threads[img->nthreads++];
		_Static_assert(sizeof r == sizeof t->regs, "user_regs_struct is 27 u64s");
		t->pid = c->t[i].tid;
		memcpy(t->regs, &r, sizeof r);
		t->rip = r.rip;
		t->rsp = r.rsp;
		t->rbp = r.rbp;
		t->fs_base = r.fs_base;
	}
	snprintf(path, sizeof path, "/proc/%d/comm", img->pid);
	if (read_small(path, comm, sizeof comm) > 0) {
		comm[strcspn(comm, "\n")] = 0;
		snprintf(img->process_name, sizeof img->process_name, "%.16s", comm);
		if (img->nthreads)
			memcpy(img->threads[0].name, img->process_name, sizeof img->threads[0].name);
	}
	size_t len = 0;
	snprintf(path, sizeof path, "/proc/%d/auxv", img->pid);
	img->owned_auxv = (uint8_t *)read_all(path, &len, 1 << 20);
	if (!img->owned_auxv)
		return err_set(e, ERR_INPUT, "cannot read /proc/%d/auxv: %s", img->pid, strerror(errno));
	img->auxv = img->owned_auxv;
	img->nauxv = len / 16;
	return 0;
}

/* The most memory a copy may take: this machine's physical memory. */
static uint64_t copy_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : (uint64_t)1 << 36;
}

static int snapshot(struct image *img, struct pid_ctx *c, struct pid_buf *pb, const struct pid_dd *dd,
		    struct err *e)
{
	char path[64];
	size_t len = 0, n = 0;
	struct pid_map *pm = NULL;
	int rc = stop_all(c, e);
	if (rc)
		return rc;
	snprintf(path, sizeof path, "/proc/%d/maps", img->pid);
	img->owned_text = read_all(path, &len, (size_t)1 << 30);
	if (!img->owned_text)
		return err_set(e, ERR_INPUT, "cannot read %s: %s", path, strerror(errno));
	rc = parse_maps(img->owned_text, &pm, &n, e, img->pid);
	if (!rc)
		dd_mark(pm, n, dd);
	if (!rc && readable_total(pm, n) > copy_limit())
		rc = err_set(e, ERR_INPUT,
			     "process %d has %llu bytes of readable memory to copy, more than this machine's %llu; take a core "
			     "(gcore, systemd-coredump) instead", img->pid, (unsigned long long)readable_total(pm, n),
			     (unsigned long long)copy_limit());
	if (!rc)
		rc = copy_memory(img, pm, n, pb, e);
	if (!rc)
		rc = copy_state(img, c, e);
	free(pm);
	return rc;
}

int image_pid_load(struct image *img, int pid, struct image_pid_stats *st, struct err *e)
{
	struct pid_ctx c = {.pid = pid};
	sigset_t block;
	char path[64];

	img->pid = pid;
	snprintf(path, sizeof path, "/proc/%d", pid);
	if (pid <= 0 || access(path, F_OK) != 0)
		return err_set(e, ERR_INPUT, "no process %d", pid);
	if (pid == getpid())
		return err_set(e, ERR_INPUT, "process %d is this tool itself", pid);
	/* The size of the copy, from the maps as they are now (the stopped
	 * process's may differ a little: the buffer grows then). */
	struct pid_buf pb = {0};
	size_t len = 0, n = 0;
	struct pid_map *pm = NULL;
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	char *pre = read_all(path, &len, (size_t)1 << 30);
	struct err scratch = {0};
	struct pid_dd dd;
	dd_load(pid, &dd);
	if (pre && parse_maps(pre, &pm, &n, &scratch, pid) == 0) {
		dd_mark(pm, n, &dd);
		uint64_t t = readable_total(pm, n);
		if (t <= copy_limit())
			buf_reserve(&pb, t + t / 8 + ((uint64_t)16 << 20));
	}
	free(pm);
	free(pre);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &c.old_mask);
	int rc = snapshot(img, &c, &pb, &dd, e);
	detach_all(&c);
	free(dd.start);
	/* The copy's buffer becomes the image's "core", trimmed to what it holds. */
	size_t keep = (size_t)((img->bytes_copied + 4095) & ~(uint64_t)4095);
	if (rc || keep == 0) {
		if (pb.buf)
			munmap(pb.buf, pb.cap);
	} else {
		if (keep < pb.cap)
			munmap(pb.buf + keep, pb.cap - keep);
		img->core = pb.buf;
		img->core_size = img->bytes_copied;
		img->core_anon = true;
	}
	if (st) {
		st->threads = c.n;
		st->stopped_seconds = c.n ? elapsed(&c.t0, &c.t1) : 0;
		st->bytes = img->bytes_copied;
	}
	free(c.t);
	return rc;
}
