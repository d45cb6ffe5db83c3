/* report_svg.c: the chart written beside the markdown report (and linked
 * from it), for looking rather than reading:
 *   1. bytes per variant, the costliest first, each bar split into the
 *      payload the variant's fields fill, the slot slack beside it (both
 *      inline, in the ops' slots) and the heap chunks the ops own;
 *   2. the variants' payload sizes in 8-byte bands (beava's own payload
 *      plot), the bands whose boxing shrinks the enum (rule R3, the layout
 *      advisor) in orange, a dashed line at the lowest of them.
 * Plain SVG 1.1, no script, fonts and colours inline.  Drawn from the
 * report document (include/report.h).
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define N(x) report_num((char[32]){0}, 32, (uint64_t)(x))

#define WIDTH 1160
#define LABEL_W 250
#define BAR_W 640
#define ROW_H 22
#define MAX_ROWS 14

static const char *const COLOUR_PAYLOAD = "#4e79a7", *const COLOUR_SLACK = "#f28e2b", *const COLOUR_HEAP = "#e15759";

void report_xml(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, o);
		}
	}
}

static int cmp_total(const void *a, const void *b)
{
	const struct profile_variant *x = *(const struct profile_variant *const *)a,
				     *y = *(const struct profile_variant *const *)b;
	uint64_t tx = x->inline_bytes + x->heap.chunk, ty = y->inline_bytes + y->heap.chunk;
	return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->name, y->name);
}

static double scale(uint64_t v, uint64_t max) { return max ? (double)BAR_W * (double)v / (double)max : 0.0; }

static void bar(FILE *o, double x, double y, double w, const char *colour, const char *title, uint64_t bytes)
{
	if (w <= 0)
		return;
	fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>", x, y, w, ROW_H - 6,
		colour);
	report_xml(o, title);
	fprintf(o, ": %s bytes</title></rect>\n", N(bytes));
}

/* Chart 1: bytes per variant; returns the height used. */
static int variants_chart(FILE *o, const struct profile *p, const struct profile_variant **v, size_t nv, int y0)
{
	size_t rows = nv > MAX_ROWS ? MAX_ROWS : nv;
	uint64_t max = 0, other[4] = {0, 0, 0, 0};   /* payload, slack, heap, count */
	for (size_t i = 0; i < nv; i++) {
		uint64_t t = v[i]->inline_bytes + v[i]->heap.chunk;
		if (i < rows && t > max)
			max = t;
		if (i >= rows) {
			other[0] += v[i]->payload_bytes;
			other[1] += v[i]->inline_bytes - v[i]->payload_bytes;
			other[2] += v[i]->heap.chunk;
			other[3]++;
		}
	}
	if (other[0] + other[1] + other[2] > max)
		max = other[0] + other[1] + other[2];
	int y = y0;
	fprintf(o, "<text x=\"10\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">Bytes per variant of ", y);
	report_xml(o, p->enum_name);
	fprintf(o, " (inline + heap chunk, %s bytes in all)</text>\n", N(p->inline_bytes + p->heap.chunk));
	y += 14;
	/* legend */
	const char *names[] = {"payload (inline, the variant's fields)", "slot slack (inline, unused by the variant)",
			       "heap chunk (what glibc holds for the op's allocations)"};
	const char *colours[] = {COLOUR_PAYLOAD, COLOUR_SLACK, COLOUR_HEAP};
	for (int k = 0, x = 10; k < 3; k++) {
		fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y, colours[k]);
		fprintf(o, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + 16, y + 10, names[k]);
		x += 16 + (int)strlen(names[k]) * 6 + 24;
	}
	y += 24;
	for (size_t i = 0; i <= rows; i++) {
		uint64_t pay, slack, heap, total;
		char label[96];
		if (i < rows) {
			pay = v[i]->payload_bytes;
			slack = v[i]->inline_bytes - v[i]->payload_bytes;
			heap = v[i]->heap.chunk;
			snprintf(label, sizeof label, "%s (%s ops)", v[i]->name, N(v[i]->count));
		} else {
			if (!other[3])
				break;
			pay = other[0];
			slack = other[1];
			heap = other[2];
			snprintf(label, sizeof label, "%s other variants", N(other[3]));
		}
		total = pay + slack + heap;
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 6, y + 12);
		report_xml(o, label);
		fprintf(o, "</text>\n");
		double x = LABEL_W;
		bar(o, x, y, scale(pay, max), COLOUR_PAYLOAD, "payload", pay);
		x += scale(pay, max);
		bar(o, x, y, scale(slack, max), COLOUR_SLACK, "slot slack", slack);
		x += scale(slack, max);
		bar(o, x, y, scale(heap, max), COLOUR_HEAP, "heap chunk", heap);
		x += scale(heap, max);
		fprintf(o, "<text x=\"%.1f\" y=\"%d\">%s bytes (%.1f%%)</text>\n", x + 6, y + 12, N(total),
			p->inline_bytes + p->heap.chunk ? 100.0 * (double)total / (double)(p->inline_bytes + p->heap.chunk) :
			0.0);
		y += ROW_H;
	}
	return y - y0;
}

/* Chart 2: how many variants have a payload in each 8-byte band.  A band
 * is a boxing candidate (orange) when it holds a variant whose boxing
 * shrinks the enum: the layout advisor's row for it adds a saving
 * (report_boxing_of, the computation rule R3 uses).  The dashed line marks
 * the left edge of the lowest candidate band, its caption on a row of its
 * own above the bars, pointing at the candidates.  Returns the height used. */
#define CHART2_H 150
#define CHART2_HEIGHT (20 + 24 + 16 + CHART2_H + 40)

static int payload_chart(FILE *o, const struct report_doc *d, int y0)
{
	const struct profile *p = d->run->p;
	const struct types_layout_enum *le = &p->layout;
	uint64_t slot = le->size ? le->size : 8;
	size_t nb = (size_t)((slot + 7) / 8);
	if (nb > 64)
		nb = 64;
	uint64_t variants[64] = {0}, ops[64] = {0}, most = 1;
	bool candidate[64] = {false};
	size_t lowest = SIZE_MAX;
	for (uint32_t i = 0; i < le->nvariants; i++) {
		uint64_t pay = le->variants[i].payload_size;
		size_t b = pay ? (size_t)((pay - 1) / 8) : 0;
		struct report_boxing bx;
		if (b >= nb)
			b = nb - 1;
		variants[b]++;
		if (i < p->nvariants)
			ops[b] += p->variants[i].count;
		if (variants[b] > most)
			most = variants[b];
		if (report_boxing_of(d, i, &bx) && bx.adds) {
			candidate[b] = true;
			lowest = b < lowest ? b : lowest;
		}
	}
	int bw = (WIDTH - 120) / (int)nb;
	int caption = y0 + 24, base = y0 + 20 + 24 + 16 + CHART2_H;
	fprintf(o, "<text x=\"10\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">Variants by payload size, 8-byte bands "
		"(slot: %s bytes; label: variants / ops in this snapshot)</text>\n", y0, N(slot));
	for (size_t b = 0; b < nb; b++) {
		int x = 60 + (int)b * bw;
		int bh = (int)((double)CHART2_H * (double)variants[b] / (double)most);
		fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>payload %zu-%zu bytes: %s "
			"variants, %s ops%s</title></rect>\n", x + 2, base - bh, bw - 4, bh,
			candidate[b] ? COLOUR_SLACK : COLOUR_PAYLOAD, b ? b * 8 + 1 : 0, (b + 1) * 8, N(variants[b]), N(ops[b]),
			candidate[b] ? "; boxing candidate" : "");
		if (variants[b])
			fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s / %s</text>\n", x + bw / 2,
				base - bh - 4, N(variants[b]), N(ops[b]));
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu-%zu</text>\n", x + bw / 2, base + 14,
			b ? b * 8 + 1 : 0, (b + 1) * 8);
	}
	if (lowest == SIZE_MAX) {
		fprintf(o, "<text x=\"60\" y=\"%d\">no boxing candidate: boxing no variant shrinks the %s-byte enum (layout "
			"advisor, rule R3)</text>\n", caption, N(slot));
	} else {
		int tx = 60 + (int)lowest * bw;
		fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#222\" stroke-dasharray=\"5,4\"/>\n", tx,
			caption + 4, tx, base + 2);
		if (tx < WIDTH / 2)
			fprintf(o, "<text x=\"%d\" y=\"%d\">&#8594; boxing candidates (orange): boxing them, largest payload "
				"first, shrinks the enum (layout advisor, rule R3)</text>\n", tx + 6, caption);
		else
			fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">boxing candidates (orange): boxing them, largest "
				"payload first, shrinks the enum (layout advisor, rule R3) &#8594;</text>\n", tx - 6, caption);
	}
	fprintf(o, "<text x=\"60\" y=\"%d\">payload bytes</text>\n", base + 32);
	return CHART2_HEIGHT;
}

int report_doc_svg(FILE *o, const struct report_doc *d, struct err *e)
{
	if (!d->run)
		return err_set(e, ERR_USAGE, "%s: a saved profile is not drawn again", d->source);
	const struct profile *p = d->run->p;
	const struct profile_variant **v = malloc((p->nvariants ? p->nvariants : 1) * sizeof *v);
	size_t nv = 0;
	if (!v)
		return err_set(e, ERR_NOMEM, "out of memory drawing the chart");
	for (size_t i = 0; i < p->nvariants; i++)
		if (p->variants[i].count)
			v[nv++] = &p->variants[i];
	if (nv > 1)   /* qsort must not see a NULL array, even empty */
		qsort(v, nv, sizeof *v, cmp_total);
	size_t rows = nv > MAX_ROWS ? MAX_ROWS + 1 : nv;
	int height = 30 + 38 + (int)rows * ROW_H + 30 + CHART2_HEIGHT + 10;
	fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", WIDTH, height, WIDTH, height);
	int y = 24;
	y += variants_chart(o, p, v, nv, y);
	y += 30;
	payload_chart(o, d, y);
	fprintf(o, "</svg>\n");
	free(v);
	if (ferror(o))
		return err_set(e, ERR_IO, "writing the chart failed");
	return 0;
}

