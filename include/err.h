/* err.h: the error record every layer fills instead of printing.
 *
 * A function that can fail returns an int status (0 on success, one of the
 * ERR_* codes otherwise) and fills a caller-owned struct err with one line
 * of text that says what went wrong and, where it helps, what to do.  Only
 * the command layer (src/cmd_*.c) prints it.  The codes map onto the tool's
 * exit statuses (design.md): ERR_USAGE -> 1, ERR_INPUT -> 2, everything else -> 2 as well
 * except ERR_COHERENCE -> 3.
 */
#ifndef AGGOP_ERR_H
#define AGGOP_ERR_H

#include <stdint.h>

enum err_code {
	ERR_OK = 0,
	ERR_USAGE = 1,     /* bad command line */
	ERR_INPUT = 2,     /* unusable input: not a core, truncated, mismatch, no debug info */
	ERR_NOMEM = 4,     /* allocation failed */
	ERR_FAULT = 5,     /* target memory could not be read (address in err.addr) */
	ERR_NOTFOUND = 6,  /* a type, symbol or root was not found */
	ERR_AMBIGUOUS = 7, /* a lookup matched more than one thing */
	ERR_CORRUPT = 8,   /* target data is inconsistent (bad header, cycle, ...) */
	ERR_IO = 9,        /* an OS call on a file failed */
	ERR_COHERENCE = 10 /* metrics coherence check failed */
};

struct err {
	int code;
	uint64_t addr; /* for ERR_FAULT / ERR_CORRUPT: the address involved, else 0 */
	char msg[512];
};

/* Fills e (if non-NULL) and returns code, so callers can write
 * `return err_set(e, ERR_INPUT, "...", ...);`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set but also records the faulting address. */
int err_fault(struct err *e, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("X: <old>") after a
 * call that failed with code, and returns code (also when e is NULL: the
 * caller passes the failing call's status, so it is never lost). */
int err_wrap(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears the record. */
void err_clear(struct err *e);

/* The process exit status for an error code (design.md "Exit status"). */
int err_exit_status(int code);

#endif
