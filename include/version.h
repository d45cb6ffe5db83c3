/* version.h: what the tool detected about the software that made the core.
 *
 * Layouts and encodings of outside dependencies (glibc malloc, Rust std,
 * crates such as hashbrown, smallvec and compact_str) differ between their
 * releases.  Each layer keeps its version table next to the code that uses
 * it (heap_glibc.c, dec_std.c, ...): one entry per known release family,
 * each with a detector that looks at evidence (DWARF member names and sizes,
 * DW_AT_producer's rustc version, structure sizes found in the core).  What a
 * detector chose is recorded here as a fact, with the evidence in words, so
 * that the report and --json can say which versions were assumed and why.
 *
 * This header holds only the record; it knows no dependency.
 */
#ifndef AGGOP_VERSION_H
#define AGGOP_VERSION_H

#include <stdbool.h>

#include "container.h"

struct version_fact {
	char dep[24];       /* the dependency: "glibc", "rust std", "hashbrown", ... */
	char what[48];      /* the fact: "tcache", "Once", "VecDeque layout", ... */
	char value[96];     /* the table entry chosen */
	char evidence[192]; /* how it was detected */
};

DEFINE_VECTOR(version_facts, struct version_fact)

/* Records (dep, what) = value, with the evidence formatted from fmt.  A fact
 * already recorded for (dep, what) with the same value is kept as it is; a
 * different value is recorded beside it (two forms met in one binary).
 * False when memory runs out. */
bool version_note(struct version_facts *f, const char *dep, const char *what, const char *value,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
