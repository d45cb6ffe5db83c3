/* fmt.h: number formatting shared by every text output (the report, the
 * diff, the heap census).  No state, no allocation. */
#ifndef AGGOP_FMT_H
#define AGGOP_FMT_H

#include <stddef.h>
#include <stdint.h>

/* v with thousands separators ("1,234,567") in buf (at least 28 bytes). */
const char *fmt_num(char *buf, size_t size, uint64_t v);
/* The same for a signed change, always with its sign ("+1,234", "-5", "+0"). */
const char *fmt_signed(char *buf, size_t size, int64_t v);

#endif
