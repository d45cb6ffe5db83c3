// dwarfprog.rs: the template executable of the DWARF fuzz harnesses
// (tests/fuzz/fuzz_types.c, fuzz_layout.c).  no_std and no allocator so that
// its DWARF is one small CU (a few KB) holding the shapes the types layer
// decodes: tagged and niche enums, C-like enums, structs with holes, tuples,
// arrays, slices, a trait object's vtable, statics.  Built by
// tests/fuzz/mkseeds.sh; never run.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

// core's precompiled objects name it; nothing unwinds here.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

pub trait Tr {
    fn f(&self) -> u64;
}

pub struct Sum {
    pub n: u64,
    pub total: i64,
}

impl Tr for Sum {
    fn f(&self) -> u64 {
        self.n
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    A = 1,
    B = 7,
    C = -3,
}

pub enum AggOp {
    Count(u64),
    Sum { n: u64, total: i64 },
    Last(Option<&'static u32>),
    Pair((u8, u32), [u16; 3]),
    Name(&'static str),
    Dyn(&'static dyn Tr),
    Kind(Kind),
    Empty,
}

pub enum Niche {
    Some(&'static [u8]),
    None,
}

pub struct Holes {
    pub a: u8,
    pub b: u64,
    pub c: u16,
    pub op: AggOp,
    pub niche: Niche,
}

pub union U {
    pub x: u32,
    pub y: f64,
}

static SUM: Sum = Sum { n: 3, total: -9 };
static K: u32 = 5;
#[no_mangle]
pub static mut TABLE: [Holes; 2] = [
    Holes { a: 1, b: 2, c: 3, op: AggOp::Sum { n: 1, total: 2 }, niche: Niche::None },
    Holes { a: 4, b: 5, c: 6, op: AggOp::Count(9), niche: Niche::Some(b"xy") },
];
#[no_mangle]
pub static mut OPS: [AggOp; 6] = [
    AggOp::Last(Some(&K)),
    AggOp::Pair((1, 2), [3, 4, 5]),
    AggOp::Name("name"),
    AggOp::Dyn(&SUM),
    AggOp::Kind(Kind::C),
    AggOp::Empty,
];
#[no_mangle]
pub static mut UN: U = U { x: 1 };

#[no_mangle]
pub extern "C" fn main() -> i32 {
    unsafe {
        let t = &*core::ptr::addr_of!(TABLE);
        let o = &*core::ptr::addr_of!(OPS);
        let mut s = t[0].a as u64 + t[1].b + UN.x as u64;
        for op in o.iter() {
            if let AggOp::Dyn(d) = op {
                s += d.f();
            }
        }
        s as i32
    }
}
