/* fmt.c: thousands separators for the text outputs (fmt.h). */
#include "fmt.h"

#include <stdio.h>

const char *fmt_num(char *buf, size_t size, uint64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < n && o + 1 < size; i++) {
		if (i && (n - i) % 3 == 0 && o + 2 < size)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	if (size)
		buf[o < size ? o : size - 1] = 0;
	return buf;
}

const char *fmt_signed(char *buf, size_t size, int64_t v)
{
	uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
	if (size < 2) {
		if (size)
			buf[0] = 0;
		return buf;
	}
	buf[0] = v < 0 ? '-' : '+';
	fmt_num(buf + 1, size - 1, mag);
	return buf;
}
