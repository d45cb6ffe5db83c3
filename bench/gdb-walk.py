# gdb-walk.py: the comparison point for aggop-inspect's walk speed.  A walk of
# the same Rust structures written the way a gdb user would write it: every
# allocation is reached and read through gdb.Value (field access by name,
# pointer arithmetic, dereference), with gdb's own DWARF types and its own Rust
# enum resolution.  It counts allocations and the seconds the walk took
# (gdb's startup and core loading excluded, as the tool's walk.seconds
# excludes its own), and prints one line:
#   gdb-walk: N allocations in S s = R allocations/s (values V)
#
# Run (bench/gdb-walk.sh does this):
#   GDBWALK_ROOT=shapes::TABLE gdb -nx -batch -iex 'set auto-load no' \
#       -ex 'core-file CORE' -x bench/gdb-walk.py EXE
#   GDBWALK_ROOT=0xADDR:TYPE  ...   a root address and Rust type name, e.g. the
#                                   tool's JSON root.address and root.type
#   GDBWALK_SECONDS=N               stop after N seconds of walking (default 120)
#
# Containers decoded, by Rust type name, through their field names (rustc 1.95
# std, hashbrown 0.12/0.16, smallvec 1.x, compact_str 0.8; docs/layouts.md):
# Vec, String, VecDeque, hashbrown RawTable (std and hashbrown HashMap/HashSet),
# BTreeMap, Box (thin, slice, dyn), Arc/Rc (once per address), SmallVec,
# CompactString.  Other structs are walked field by field; enums through the
# variant gdb resolves as active.  Only types that can own heap memory are
# descended into (as a user would skip a Vec<u32>'s elements), and a set of
# visited allocations stops cycles.  Allocation = one heap block: a buffer
# with cap > 0, a boxed value, a map table (not the empty singleton), a BTree
# node, an ArcInner, a spilled SmallVec, a heap CompactString.
import os
import re
import sys
import time

import gdb

sys.setrecursionlimit(100000)

class Budget(Exception):
    pass

class Walk:
    def __init__(self, seconds):
        self.seen = set()
        self.kinds = {}
        self.owns = {}
        self.values = 0
        self.deadline = time.perf_counter() + seconds
        self.inferior = gdb.selected_inferior()

    # -- bookkeeping --
    def alloc(self, addr):
        """Counts a heap block once; False when it was already visited."""
        if addr in self.seen:
            return False
        self.seen.add(addr)
        if len(self.seen) & 1023 == 0 and time.perf_counter() > self.deadline:
            raise Budget()
        return True

    # -- type analysis (cached by type name) --
    @staticmethod
    def key(t):
        return t.name or str(t)

    def owns_heap(self, t):
        """Can a value of static type t own heap memory?"""
        t = t.strip_typedefs()
        k = self.key(t)
        r = self.owns.get(k)
        if r is not None:
            return r
        self.owns[k] = True  # recursive types (AggOp -> Box<..AggOp..>) own heap
        c = t.code
        if c == gdb.TYPE_CODE_PTR:
            r = str(t).startswith("*mut ")  # gdb names a Box<T> pointer "*mut T"
        elif c == gdb.TYPE_CODE_ARRAY:
            r = self.owns_heap(t.target())
        elif c in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            kind = self.classify(t)
            if kind[0] in ("skip",):
                r = False
            elif kind[0] in ("struct", "enum", "maybeuninit"):
                r = any(self.owns_heap(f.type) for f in t.fields() if not f.artificial)
            else:
                r = True
        else:
            r = False
        self.owns[k] = r
        return r

    def classify(self, t):
        k = self.key(t)
        kind = self.kinds.get(k)
        if kind is None:
            kind = self._classify(t, k)
            self.kinds[k] = kind
        return kind

    def _classify(self, t, n):
        c = t.code
        if c == gdb.TYPE_CODE_PTR:
            return ("box_thin",) if n.startswith("*mut ") else ("skip",)
        if c == gdb.TYPE_CODE_ARRAY:
            return ("array",)
        if c == gdb.TYPE_CODE_UNION:
            names = [f.name for f in t.fields()]
            return ("maybeuninit",) if "value" in names and "uninit" in names else ("skip",)
        if c != gdb.TYPE_CODE_STRUCT:
            return ("skip",)
        for prefix, kind in (("alloc::vec::Vec<", "vec"), ("alloc::string::String", "string"),
                             ("alloc::collections::vec_deque::VecDeque<", "deque"),
                             ("hashbrown::raw::RawTable<", "rawtable"),
                             ("alloc::collections::btree::map::BTreeMap<", "btree"),
                             ("alloc::sync::Arc<", "arc"), ("alloc::rc::Rc<", "arc"),
                             ("alloc::boxed::Box<", "box_fat"), ("smallvec::SmallVec<", "smallvec"),
                             ("compact_str::CompactString", "compact"),
                             ("core::marker::PhantomData<", "skip"),
                             ("alloc::sync::Weak<", "skip"), ("alloc::rc::Weak<", "skip")):
            if n.startswith(prefix):
                return (kind,)
        if n.startswith("&") or n.startswith("*const ") or n.startswith("*mut "):
            return ("skip",)  # references and raw fat pointers own nothing
        fields = t.fields()
        if fields and fields[0].artificial and fields[0].name is None:
            return ("enum",)
        own = tuple(f.name for f in fields if not f.artificial and self.owns_heap(f.type))
        return ("struct", own) if own else ("skip",)

    # -- the walk --
    def visit(self, v):
        self.values += 1
        t = v.type.strip_typedefs()
        kind = self.classify(t)
        k = kind[0]
        if k == "skip":
            return
        getattr(self, "w_" + k)(v, t, kind)

    def w_struct(self, v, t, kind):
        for name in kind[1]:
            self.visit(v[name])

    def w_enum(self, v, t, kind):
        # gdb resolves a Rust enum value's type to its active variant
        for f in t.fields():
            if not f.artificial and f.name is not None:
                self.visit(v[f.name])

    def w_maybeuninit(self, v, t, kind):
        self.visit(v["value"])

    def w_array(self, v, t, kind):
        if not self.owns_heap(t.target()):
            return
        lo, hi = t.range()
        for i in range(lo, hi + 1):
            self.visit(v[i])

    def elements(self, ptr, elem, first, count, cap=None):
        if count <= 0 or not self.owns_heap(elem):
            return
        p = ptr.cast(elem.pointer())
        for i in range(count):
            j = first + i
            if cap:
                j %= cap
            self.visit((p + j).dereference())

    @staticmethod
    def raw_vec(inner):
        """(ptr, cap) of a RawVec / RawVecInner (1.95: cap.__0, ptr.pointer.pointer)."""
        if "inner" in [f.name for f in inner.type.fields()]:
            inner = inner["inner"]
        cap = inner["cap"]
        cap = int(cap["__0"]) if cap.type.code == gdb.TYPE_CODE_STRUCT else int(cap)
        ptr = inner["ptr"]
        while ptr.type.code == gdb.TYPE_CODE_STRUCT:
            ptr = ptr["pointer"]
        return ptr, cap

    def w_vec(self, v, t, kind):
        elem = t.template_argument(0)
        ptr, cap = self.raw_vec(v["buf"])
        if cap == 0 or elem.sizeof == 0 or not self.alloc(int(ptr)):
            return
        self.elements(ptr, elem, 0, int(v["len"]))

    def w_string(self, v, t, kind):
        ptr, cap = self.raw_vec(v["vec"]["buf"])
        if cap:
            self.alloc(int(ptr))

    def w_deque(self, v, t, kind):
        elem = t.template_argument(0)
        ptr, cap = self.raw_vec(v["buf"])
        if cap == 0 or elem.sizeof == 0 or not self.alloc(int(ptr)):
            return
        self.elements(ptr, elem, int(v["head"]), int(v["len"]), cap)

    def w_rawtable(self, v, t, kind):
        elem = t.template_argument(0)
        inner = v["table"]
        mask = int(inner["bucket_mask"])
        ctrl = inner["ctrl"]
        while ctrl.type.code == gdb.TYPE_CODE_STRUCT:
            ctrl = ctrl["pointer"]
        if mask == 0 or not self.alloc(int(ctrl)):
            return  # the static empty singleton, or seen
        if not self.owns_heap(elem):
            return
        buckets = mask + 1
        bytes_ = self.inferior.read_memory(int(ctrl), buckets).tobytes()
        base = ctrl.cast(elem.pointer())
        for i in range(buckets):
            if bytes_[i] & 0x80 == 0:
                self.visit((base - (i + 1)).dereference())

    def w_box_thin(self, v, t, kind):
        target = t.target()
        a = int(v)
        if target.sizeof == 0 or a == 0 or not self.alloc(a):
            return
        if self.owns_heap(target):
            self.visit(v.dereference())

    def w_box_fat(self, v, t, kind):
        names = [f.name for f in t.fields()]
        if "data_ptr" in names:  # Box<[T]> / Box<str>
            ptr, n = v["data_ptr"], int(v["length"])
            elem = ptr.type.target()
            if n and elem.sizeof and self.alloc(int(ptr)):
                self.elements(ptr, elem, 0, n)
        elif "vtable" in names:  # Box<dyn Trait>: size from the vtable's second word
            size = int(v["vtable"].cast(gdb.lookup_type("usize").pointer())[1])
            if size:
                self.alloc(int(v["pointer"]))

    def w_arc(self, v, t, kind):
        p = v["ptr"]["pointer"]
        if p.type.code == gdb.TYPE_CODE_STRUCT:  # Arc<str>, Arc<[T]>: a fat pointer
            self.alloc(int(p["data_ptr"]))
            return
        if not self.alloc(int(p)):
            return  # shared: walked on its first visit only
        inner = p.dereference()
        names = [f.name for f in inner.type.fields()]
        self.visit(inner["data" if "data" in names else "value"])

    def w_btree(self, v, t, kind):
        root = v["root"]  # Option<NodeRef>, resolved by gdb
        some = [f.name for f in root.type.fields() if not f.artificial and f.name]
        if not some or some[0] != "Some":
            return
        ref = root["Some"]["__0"]
        node = ref["node"]
        while node.type.code == gdb.TYPE_CODE_STRUCT:
            node = node["pointer"]
        self.btree_node(node, int(ref["height"]))

    def btree_node(self, node, height):
        if not self.alloc(int(node)):
            return
        leaf = node.dereference()
        n = int(leaf["len"])
        for field in ("keys", "vals"):
            arr = leaf[field]
            if not self.owns_heap(arr.type.target()):
                continue
            for i in range(n):
                self.visit(arr[i])
        if height == 0:
            return
        inode = gdb.lookup_type(str(node.type.target()).replace("LeafNode<", "InternalNode<", 1))
        edges = node.cast(inode.pointer()).dereference()["edges"]
        for i in range(n + 1):
            e = edges[i]
            while e.type.code != gdb.TYPE_CODE_PTR:
                e = e[e.type.fields()[0].name if e.type.code == gdb.TYPE_CODE_STRUCT else "value"]
            self.btree_node(e, height - 1)

    def w_smallvec(self, v, t, kind):
        data = v["data"]
        active = [f.name for f in data.type.fields() if not f.artificial and f.name]
        cap = int(v["capacity"])
        if active and active[0] == "Heap":
            heap = data["Heap"]["__0"]
            ptr, n = heap["__0"], int(heap["__1"])
            if self.alloc(int(ptr)):
                self.elements(ptr, ptr.type.target(), 0, n)
        elif active:
            arr = data["Inline"]["__0"]["value"]
            while arr.type.code != gdb.TYPE_CODE_ARRAY:
                arr = arr[arr.type.fields()[0].name]
            if self.owns_heap(arr.type.target()):
                for i in range(min(cap, arr.type.range()[1] + 1)):
                    self.visit(arr[i])

    def w_compact(self, v, t, kind):
        r = v["__0"]
        last = int(r["__5"].cast(gdb.lookup_type("u8")))
        if last == 0xD8:  # compact_str HEAP_MASK: {ptr, len, cap}
            self.alloc(int(r["__0"]))


def root_value(spec):
    m = re.match(r"^(0x[0-9a-fA-F]+):(.+)$", spec)
    if m:
        t = gdb.lookup_type(m.group(2))
        return gdb.Value(int(m.group(1), 16)).cast(t.pointer()).dereference()
    return gdb.parse_and_eval(spec)


def main():
    # type names are printed in the current language; the core's frame is in libc (C)
    gdb.execute("set language rust")
    spec = os.environ.get("GDBWALK_ROOT")
    if not spec:
        raise gdb.GdbError("gdb-walk.py: set GDBWALK_ROOT to a static (shapes::TABLE) or 0xADDR:TYPE")
    w = Walk(float(os.environ.get("GDBWALK_SECONDS", "120")))
    root = root_value(spec)
    t0 = time.perf_counter()
    complete = True
    try:
        w.visit(root)
    except Budget:
        complete = False
    secs = time.perf_counter() - t0
    n = len(w.seen)
    print("gdb-walk: %d allocations in %.3f s = %.0f allocations/s (values %d%s)"
          % (n, secs, n / secs if secs else 0, w.values, "" if complete else ", stopped at the time budget"))


main()
