/* report_flame.c: a self-contained interactive flame graph of a profile's
 * stacks (include/report.h), in the manner of flamegraph.pl: one SVG file,
 * its script and style inline, nothing fetched.
 *
 * The stacks are merged into a tree (a frame is a child of its parent by
 * name and kind); each node is a rectangle as wide as its weight, the root
 * ("all") at the bottom.  Click a frame to zoom to it (its ancestors span
 * the width, what is outside it is hidden), click "Reset zoom" or press
 * Escape to go back; "Search" (or Ctrl-F) asks for a regular expression,
 * paints the matching frames and prints the share of the weight they hold
 * (a frame under a matching frame is not counted twice).  The URL can say
 * both: FILE.svg?zoom=NAME (the first frame so named) and ?s=REGEX.  Hovering a frame
 * shows its full name, kind, weight and share.  Colours are by frame kind
 * (table, feature, variant, field, container, inline), the shade by name.
 */
#include "report_export_int.h"

#include <stdlib.h>
#include <string.h>

#define WIDTH 1200.0
#define ROW 17
#define PAD_TOP 60
#define PAD_BOTTOM 30
#define MAX_NODES 200000   /* a hostile saved profile must not make a gigabyte of SVG */

struct fl_node {
	const char *name;
	int kind;                  /* enum export_frame_kind, -1 for the root */
	uint32_t parent, depth;
	uint64_t value;
	uint32_t first_child, next_sibling;   /* UINT32_MAX: none */
	double x;                  /* start, in weight units */
};
DEFINE_VECTOR(fl_nodes, struct fl_node)

struct fl_key {
	uint32_t parent;
	int kind;
	const char *name;
};
struct fl_entry {
	struct fl_key k;
	uint32_t node;
};
static inline struct fl_key fl_key_of(const struct fl_entry *x) { return x->k; }
static inline uint64_t fl_hash(struct fl_key k)
{
	return container_hash_str(k.name) ^ container_hash_u64((uint64_t)k.parent << 8 | (uint64_t)(k.kind & 0xff));
}
static inline bool fl_eq(struct fl_key a, struct fl_key b)
{
	return a.parent == b.parent && a.kind == b.kind && strcmp(a.name, b.name) == 0;
}
DEFINE_HASH_TABLE(fl_index, struct fl_entry, struct fl_key, fl_key_of, fl_hash, fl_eq)

/* The child of parent named (kind, name), made when absent; UINT32_MAX when
 * memory or the node budget runs out. */
static uint32_t child(struct fl_nodes *n, struct fl_index *ix, uint32_t parent, const struct export_frame *f)
{
	struct fl_key k = {parent, (int)f->kind, f->name};
	bool ins;
	if (n->len >= MAX_NODES && !fl_index_find(ix, k))
		return UINT32_MAX;
	struct fl_entry *x = fl_index_insert(ix, k, &ins);
	if (!x)
		return UINT32_MAX;
	if (!ins)
		return x->node;
	struct fl_node *c = fl_nodes_push(n);
	if (!c) {
		x->k = k;   /* keep the entry well-formed; the caller gives up */
		x->node = UINT32_MAX;
		return UINT32_MAX;
	}
	x->k = k;
	x->node = (uint32_t)(n->len - 1);
	*c = (struct fl_node){f->name, (int)f->kind, parent, n->data[parent].depth + 1, 0, UINT32_MAX, UINT32_MAX, 0};
	return x->node;
}

/* Children in the order they were met, each after its elder siblings. */
static void link_children(struct fl_nodes *n)
{
	for (size_t i = n->len; i-- > 1;) {
		struct fl_node *c = &n->data[i], *p = &n->data[c->parent];
		c->next_sibling = p->first_child;
		p->first_child = (uint32_t)i;
	}
}

static void place(struct fl_nodes *n)
{
	/* parents precede their children in the vector, so one pass in order
	 * places every child after its parent is placed */
	for (size_t i = 0; i < n->len; i++) {
		double x = n->data[i].x;
		for (uint32_t c = n->data[i].first_child; c != UINT32_MAX; c = n->data[c].next_sibling) {
			n->data[c].x = x;
			x += (double)n->data[c].value;
		}
	}
}

/* The name as it fits w pixels at 7 pixels a character (the script does
 * the same after a zoom). */
static void label(FILE *o, const char *name, double w)
{
	double fit = (w - 6) / 7;
	size_t n = fit < 3 ? 0 : (size_t)fit, len = strlen(name);
	if (!n)
		return;
	if (len <= n) {
		report_xml(o, name);
		return;
	}
	char *t = strndup(name, n - 2);
	if (t)
		report_xml(o, t);
	free(t);
	fputs("..", o);
}

static const char *const kind_hue[EF_COUNT] = {"210", "160", "25", "45", "350", "280", "0", "120", "300"};

static const char SCRIPT[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"'use strict';\n"
	"var W=" "%.0f" ",frames=[],total=0,details,matchedtxt,zoomed=null,searching=null;\n"
	"function init(){\n"
	" details=document.getElementById('details');matchedtxt=document.getElementById('matched');\n"
	" var gs=document.getElementsByClassName('f');\n"
	" for(var i=0;i<gs.length;i++){var g=gs[i];frames.push({g:g,x:+g.getAttribute('data-x'),"
	"w:+g.getAttribute('data-w'),d:+g.getAttribute('data-d'),name:g.getAttribute('data-n')});"
	"g.onclick=zoomer(frames[i]);g.onmouseover=shower(frames[i]);g.onmouseout=function(){details.textContent=' ';};}\n"
	" total=frames.length?frames[0].w:0;layout(0,total,0);\n"
	" document.getElementById('reset').onclick=function(){zoomed=null;layout(0,total,0);};\n"
	" document.getElementById('search').onclick=function(){search();};\n"
	" document.addEventListener('keydown',function(e){if((e.ctrlKey||e.metaKey)&&e.key=='f'){e.preventDefault();search();}"
	"else if(e.key=='Escape'){zoomed=null;layout(0,total,0);clearsearch();}});\n"
	" var q=new URLSearchParams(location.search),z=q.get('zoom');\n"
	" if(z)for(var i=0;i<frames.length;i++)if(frames[i].name==z){zoomer(frames[i])();break;}\n"
	" if(q.get('s'))dosearch(q.get('s'));\n"
	"}\n"
	"function shower(f){return function(){details.textContent=f.g.getElementsByTagName('title')[0].textContent;};}\n"
	"function zoomer(f){return function(){zoomed=f;layout(f.x,f.w,f.d);};}\n"
	"function layout(x0,w0,d0){\n"
	" var scale=w0>0?(W-20)/w0:0;\n"
	" document.getElementById('reset').style.opacity=x0==0&&w0==total?0.3:1;\n"
	" for(var i=0;i<frames.length;i++){var f=frames[i],r=f.g.getElementsByTagName('rect')[0],"
	"t=f.g.getElementsByTagName('text')[0],x,w;\n"
	"  if(f.d<d0){if(f.x<=x0&&f.x+f.w>=x0+w0){x=10;w=W-20;}else{f.g.style.display='none';continue;}}\n"
	"  else if(f.x>=x0&&f.x+f.w<=x0+w0+1e-9*w0){x=10+(f.x-x0)*scale;w=f.w*scale;}\n"
	"  else{f.g.style.display='none';continue;}\n"
	"  if(w<0.1){f.g.style.display='none';continue;}\n"
	"  f.g.style.display='';f.g.style.opacity=f.d<d0?0.6:1;r.setAttribute('x',x);r.setAttribute('width',w);\n"
	"  t.setAttribute('x',x+3);var n=Math.floor((w-6)/7);\n"
	"  t.textContent=n<3?'':(f.name.length<=n?f.name:f.name.substring(0,n-2)+'..');}\n"
	"}\n"
	"function clearsearch(){for(var i=0;i<frames.length;i++){var r=frames[i].g.getElementsByTagName('rect')[0];"
	"r.style.fill='';}matchedtxt.textContent=' ';searching=null;}\n"
	"function search(){var s=prompt('Search frames (regular expression)',searching||'');if(s!==null)dosearch(s);}\n"
	"function dosearch(s){clearsearch();if(!s)return;var re;try{re=new RegExp(s);}catch(e){alert(e);return;}searching=s;\n"
	" var hit=[],sum=0;for(var i=0;i<frames.length;i++){var f=frames[i];if(f.d>0&&re.test(f.name)){"
	"f.g.getElementsByTagName('rect')[0].style.fill='rgb(230,0,230)';hit.push(f);}}\n"
	" hit.sort(function(a,b){return a.x-b.x||a.d-b.d;});var end=-1;for(var i=0;i<hit.length;i++){"
	"if(hit[i].x>=end){sum+=hit[i].w;end=hit[i].x+hit[i].w;}}\n"
	" matchedtxt.textContent='Matched: '+(total?(100*sum/total).toFixed(1):'0')+'%%';}\n"
	"window.addEventListener('load',init);\n"
	"]]></script>\n";

int report_flamegraph(FILE *o, const struct report_doc *d, enum report_family fam, struct err *e)
{
	struct export_stacks st;
	struct fl_nodes n;
	struct fl_index ix;
	if (export_stacks_make(&st, d, e))
		return e->code;
	fl_nodes_init(&n);
	fl_index_init(&ix);
	int rc = 0;
	struct fl_node *root = fl_nodes_push(&n);
	if (!root)
		rc = err_set(e, ERR_NOMEM, "out of memory drawing the flame graph");
	else
		*root = (struct fl_node){"all", -1, 0, 0, 0, UINT32_MAX, UINT32_MAX, 0};
	size_t dropped = 0;
	for (size_t i = 0; !rc && i < st.len; i++) {
		const struct export_stack *s = &st.data[i];
		if (!s->v[fam])
			continue;
		uint32_t path[64], depth = 0, at = 0;
		bool ok = true;
		for (size_t k = 0; ok && k < s->nframes && depth < 64; k++) {
			at = child(&n, &ix, at, &s->frames[k]);
			ok = at != UINT32_MAX;
			path[depth++] = at;
		}
		if (!ok) {
			if (n.len < MAX_NODES) {
				rc = err_set(e, ERR_NOMEM, "out of memory drawing the flame graph");
				break;
			}
			dropped++;
			continue;
		}
		n.data[0].value += s->v[fam];
		for (uint32_t k = 0; k < depth; k++)
			n.data[path[k]].value += s->v[fam];
	}
	if (rc) {
		fl_nodes_deinit(&n);
		fl_index_deinit(&ix);
		export_stacks_free(&st);
		return rc;
	}
	link_children(&n);
	place(&n);
	uint32_t maxd = 0;
	for (size_t i = 0; i < n.len; i++)
		maxd = n.data[i].depth > maxd ? n.data[i].depth : maxd;
	double height = PAD_TOP + (maxd + 1) * ROW + PAD_BOTTOM;
	double total = (double)n.data[0].value;
	const char *unit = fam == REPORT_FAM_ALLOCATIONS ? "allocations" : "bytes";

	fprintf(o, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n", WIDTH, height, WIDTH, height);
	fprintf(o, "<style>text{font-family:monospace;font-size:12px;fill:#000}.f rect{stroke:#fff;stroke-width:0.5;"
		"rx:2;ry:2}.f:hover rect{stroke:#000;stroke-width:1}.f{cursor:pointer}"
		".ui{cursor:pointer;fill:#336}</style>\n");
	fprintf(o, SCRIPT, WIDTH);
	fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#f8f8f4\"/>\n", WIDTH, height);
	fprintf(o, "<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" style=\"font-size:16px\">", WIDTH / 2);
	report_xml(o, d->enum_name);
	fprintf(o, ": %s%s%s by table, feature, variant, field path, container</text>\n",
		fam == REPORT_FAM_INLINE ? "inline slot" : "heap ", fam == REPORT_FAM_INLINE ? "" : report_family_name(fam),
		fam == REPORT_FAM_ALLOCATIONS ? "" : " bytes");
	fprintf(o, "<text x=\"%.0f\" y=\"40\" text-anchor=\"middle\" style=\"font-size:11px;fill:#555\">", WIDTH / 2);
	report_xml(o, *d->core ? d->core : d->source);   /* the snapshot: the same from a run and from its JSON */
	fprintf(o, " (%llu %s in all; click to zoom, Ctrl-F to search)</text>\n", (unsigned long long)n.data[0].value,
		unit);
	fprintf(o, "<text id=\"reset\" class=\"ui\" x=\"10\" y=\"22\">Reset zoom</text>\n"
		"<text id=\"search\" class=\"ui\" x=\"%.0f\" y=\"22\" text-anchor=\"end\">Search</text>\n"
		"<text id=\"matched\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\"> </text>\n"
		"<text id=\"details\" x=\"10\" y=\"%.0f\"> </text>\n", WIDTH - 10, WIDTH - 10, height - 10, height - 10);
	for (size_t i = 0; i < n.len; i++) {
		const struct fl_node *f = &n.data[i];
		if (!f->value)
			continue;
		double x = total > 0 ? 10 + f->x / total * (WIDTH - 20) : 10;
		double w = total > 0 ? (double)f->value / total * (WIDTH - 20) : 0;
		double y = height - PAD_BOTTOM - (f->depth + 1) * ROW;
		unsigned h = (unsigned)(container_hash_str(f->name) % 25);
		const char *hue = f->kind >= 0 ? kind_hue[f->kind] : "0";
		fprintf(o, "<g class=\"f\" data-x=\"%.17g\" data-w=\"%llu\" data-d=\"%u\" data-n=\"", f->x,
			(unsigned long long)f->value, f->depth);
		report_xml(o, f->name);
		fputs("\"><title>", o);
		report_xml(o, f->name);
		fprintf(o, " (%s): %llu %s, %.2f%%</title>", f->kind >= 0 ? export_frame_kind_name(f->kind) : "root",
			(unsigned long long)f->value, unit, total > 0 ? 100.0 * (double)f->value / total : 0.0);
		fprintf(o, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"hsl(%s,%u%%,%u%%)\"/>",
			x, y, w, ROW - 1, hue, f->kind >= 0 ? 55 + h : 0, f->kind >= 0 ? 62 + h / 2 : 80);
		fprintf(o, "<text x=\"%.2f\" y=\"%.0f\">", x + 3, y + ROW - 5);
		label(o, f->name, w);
		fputs("</text></g>\n", o);
	}
	if (dropped)
		fprintf(o, "<text x=\"10\" y=\"%.0f\">%zu stacks left out: more than %d frames</text>\n", height - 25.0,
			dropped, MAX_NODES);
	fputs("</svg>\n", o);
	fl_nodes_deinit(&n);
	fl_index_deinit(&ix);
	export_stacks_free(&st);
	if (ferror(o))
		return err_set(e, ERR_IO, "writing the flame graph failed");
	return 0;
}
