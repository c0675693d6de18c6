/**
 * The matrix-product kernel in WebAssembly text, generated (the build script `build.ts` turns
 * it into the committed `gemm.wasm` and `gemm_shared.wasm`).
 *
 * `C[M, N] (+)= A[M, K] · B[K, N]` in the blocked way of Goto and BLIS: a driver (`gemm.ts`)
 * packs blocks of A into panels of {@link MR} rows and blocks of B into panels of {@link NR}
 * columns, both laid out by k, and the micro-kernel keeps an `MR × NR` tile of C in SIMD
 * registers (`MR · NR / 4` accumulators of `f32x4`) while it walks k, with one `f32x4`
 * multiply-add per accumulator and step (`f32x4.relaxed_madd` where the runtime validates relaxed
 * SIMD, `f32x4.mul` then `f32x4.add` otherwise). Operands are read through strides, so a
 * transposed operand is handled by its packing (no copy of the whole matrix).
 *
 * Exports (all addresses are byte offsets into the imported memory `env.memory`):
 * - `pack_a(a, rs, cs, mc, kc, ap)`: the `mc × kc` block whose element (i, k) is at
 *   `a + i·rs + k·cs` into panels `ap[⌈mc/MR⌉][kc][MR]`, rows past `mc` zero.
 * - `pack_b(b, rs, cs, kc, nc, bp)`: the `kc × nc` block whose element (k, j) is at
 *   `b + k·rs + j·cs` into panels `bp[⌈nc/NR⌉][kc][NR]`, columns past `nc` zero.
 * - `block(mc, nc, kc, ap, bp, bks, bpanel, c, ldc, acc, tile)`: `C[mc, nc] (+)= Ap · B` for packed
 *   A panels and B's panels of NR columns `bpanel` bytes apart, each with its k-rows `bks` bytes
 *   apart (packed: `kc · NR · 4` and `NR · 4`; B as it lies, row-major: `NR · 4` and its row
 *   length; then every panel but the last must be whole), C's rows `ldc` bytes apart; `acc` 0
 *   stores, 1 adds; `tile` is `MR · NR` floats of scratch for the edges.
 * - `dot_block(m, n, k, a, lda, b, ldb, c, ldc, acc)`: `C[m, n] (+)= A[m, k] · B[n, k]ᵀ`, rows
 *   `lda`, `ldb`, `ldc` bytes apart, by dot products along k (no packing).
 *
 * @module
 */

/** Rows of C per micro-tile. */
export const MR = 6;
/** Columns of C per micro-tile (two `f32x4`). */
export const NR = 8;

/** The multiply-add `acc + a · b` on `f32x4` values (WAT expressions). */
type Madd = (a: string, b: string, acc: string) => string;

const relaxed: Madd = (a, b, acc) => `(f32x4.relaxed_madd ${a} ${b} ${acc})`;
const split: Madd = (a, b, acc) => `(f32x4.add (f32x4.mul ${a} ${b}) ${acc})`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const get = (name: string) => `(local.get $${name})`;
const i32 = (n: number) => `(i32.const ${n})`;

/** The micro-kernel: `C[MR, NR] (+)= Ap[kc][MR] · Bp[kc][NR]` (B's k-rows `bks` bytes apart). */
function microKernel(madd: Madd): string {
  const vecs = NR / 4;
  const accs = range(MR).flatMap((r) => range(vecs).map((v) => `c${r}_${v}`));
  const step = (u: number) =>
    [
      ...range(vecs).map((v) => `(local.set $b${v} (v128.load offset=${16 * v} ${get("bp")}))`),
      `(local.set $bp (i32.add ${get("bp")} ${get("bks")}))`,
      ...range(MR).flatMap((r) => [
        `(local.set $a (v128.load32_splat offset=${4 * (u * MR + r)} ${get("ap")}))`,
        ...range(vecs).map((v) =>
          `(local.set $c${r}_${v} ${madd(get("a"), get(`b${v}`), get(`c${r}_${v}`))})`
        ),
      ]),
    ].join("\n        ");
  const store = range(MR).flatMap((r) =>
    range(vecs).map((v) => {
      const at = `(i32.add ${get("c")} ${i32(16 * v)})`;
      return `(v128.store offset=0 (i32.add ${at} (i32.mul ${get("ldc")} ${i32(r)}))
        (if (result v128) ${get("acc")}
          (then (f32x4.add (v128.load (i32.add ${at} (i32.mul ${get("ldc")} ${i32(r)}))) ${
        get(`c${r}_${v}`)
      }))
          (else ${get(`c${r}_${v}`)})))`;
    })
  ).join("\n    ");
  return `
  (func $kernel (param $kc i32) (param $ap i32) (param $bp i32) (param $bks i32)
      (param $c i32) (param $ldc i32) (param $acc i32)
    (local $k i32) (local $a v128) ${range(vecs).map((v) => `(local $b${v} v128)`).join(" ")}
    ${accs.map((a) => `(local $${a} v128)`).join(" ")}
    (local.set $k (i32.shr_u ${get("kc")} ${i32(2)}))
    (if (local.get $k) (then
      (loop $four
        ${range(4).map(step).join("\n        ")}
        (local.set $ap (i32.add ${get("ap")} ${i32(16 * MR)}))
        (local.set $k (i32.sub ${get("k")} ${i32(1)}))
        (br_if $four ${get("k")}))))
    (local.set $k (i32.and ${get("kc")} ${i32(3)}))
    (if (local.get $k) (then
      (loop $one
        ${step(0)}
        (local.set $ap (i32.add ${get("ap")} ${i32(4 * MR)}))
        (local.set $k (i32.sub ${get("k")} ${i32(1)}))
        (br_if $one ${get("k")}))))
    ${store})`;
}

/** `block`: every micro-tile of a packed block, edges through the scratch tile. */
const BLOCK = `
  (func (export "block") (param $mc i32) (param $nc i32) (param $kc i32) (param $ap i32)
      (param $bp i32) (param $bks i32) (param $bpanel i32) (param $c i32) (param $ldc i32)
      (param $acc i32) (param $tile i32)
    (local $jr i32) (local $ir i32) (local $nr i32) (local $mr i32) (local $bpan i32)
    (local $apan i32) (local $ct i32) (local $r i32) (local $j i32) (local $src i32)
    (local $dst i32)
    (local.set $jr (i32.const 0))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $jr) (local.get $nc)))
      (local.set $nr (select (i32.sub (local.get $nc) (local.get $jr)) (i32.const ${NR})
        (i32.lt_u (i32.sub (local.get $nc) (local.get $jr)) (i32.const ${NR}))))
      (local.set $bpan (i32.add (local.get $bp)
        (i32.mul (i32.div_u (local.get $jr) (i32.const ${NR})) (local.get $bpanel))))
      (local.set $ir (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $ir) (local.get $mc)))
        (local.set $mr (select (i32.sub (local.get $mc) (local.get $ir)) (i32.const ${MR})
          (i32.lt_u (i32.sub (local.get $mc) (local.get $ir)) (i32.const ${MR}))))
        (local.set $apan (i32.add (local.get $ap)
          (i32.mul (i32.div_u (local.get $ir) (i32.const ${MR})) (i32.mul (local.get $kc) (i32.const ${
  4 * MR
})))))
        (local.set $ct (i32.add (local.get $c) (i32.add
          (i32.mul (local.get $ir) (local.get $ldc)) (i32.shl (local.get $jr) (i32.const 2)))))
        (if (i32.and (i32.eq (local.get $mr) (i32.const ${MR})) (i32.eq (local.get $nr) (i32.const ${NR})))
          (then (call $kernel (local.get $kc) (local.get $apan) (local.get $bpan) (local.get $bks)
            (local.get $ct) (local.get $ldc) (local.get $acc)))
          (else
            (call $kernel (local.get $kc) (local.get $apan) (local.get $bpan) (local.get $bks)
              (local.get $tile) (i32.const ${4 * NR}) (i32.const 0))
            (local.set $r (i32.const 0))
            (loop $rows
              (local.set $j (i32.const 0))
              (loop $cols
                (local.set $src (i32.add (local.get $tile)
                  (i32.shl (i32.add (i32.mul (local.get $r) (i32.const ${NR})) (local.get $j)) (i32.const 2))))
                (local.set $dst (i32.add (local.get $ct)
                  (i32.add (i32.mul (local.get $r) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))))
                (f32.store (local.get $dst) (select
                  (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src)))
                  (f32.load (local.get $src)) (local.get $acc)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $cols (i32.lt_u (local.get $j) (local.get $nr))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $rows (i32.lt_u (local.get $r) (local.get $mr))))))
        (local.set $ir (i32.add (local.get $ir) (i32.const ${MR})))
        (br $iloop)))
      (local.set $jr (i32.add (local.get $jr) (i32.const ${NR})))
      (br $jloop))))`;

/** `pack_a`: rows into panels of MR, by k; rows past mc are zero. */
const PACK_A = `
  (func (export "pack_a") (param $a i32) (param $rs i32) (param $cs i32) (param $mc i32)
      (param $kc i32) (param $ap i32)
    (local $p i32) (local $k i32) (local $r i32) (local $i i32)
    ${range(MR).map((r) => `(local $q${r} i32)`).join(" ")}
    (local.set $p (i32.const 0))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $mc)))
      (local.set $k (i32.const 0))
      ;; A whole panel: MR row pointers walked along k, no bounds to test.
      (if (i32.le_u (i32.add (local.get $p) (i32.const ${MR})) (local.get $mc)) (then
        ${
  range(MR).map((r) =>
    `(local.set $q${r} (i32.add (local.get $a) (i32.mul (i32.add (local.get $p) (i32.const ${r})) (local.get $rs))))`
  ).join("\n        ")
}
        (block $fdone (loop $floop
          (br_if $fdone (i32.ge_u (local.get $k) (local.get $kc)))
          ${
  range(MR).map((r) =>
    `(f32.store offset=${4 * r} (local.get $ap) (f32.load (local.get $q${r})))
          (local.set $q${r} (i32.add (local.get $q${r}) (local.get $cs)))`
  ).join("\n          ")
}
          (local.set $ap (i32.add (local.get $ap) (i32.const ${4 * MR})))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $floop)))))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $kc)))
        (local.set $r (i32.const 0))
        (loop $rloop
          (local.set $i (i32.add (local.get $p) (local.get $r)))
          (f32.store (local.get $ap) (if (result f32) (i32.lt_u (local.get $i) (local.get $mc))
            (then (f32.load (i32.add (local.get $a)
              (i32.add (i32.mul (local.get $i) (local.get $rs)) (i32.mul (local.get $k) (local.get $cs))))))
            (else (f32.const 0))))
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rloop (i32.lt_u (local.get $r) (i32.const ${MR}))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kloop)))
      (local.set $p (i32.add (local.get $p) (i32.const ${MR})))
      (br $ploop))))`;

/** `pack_b`: columns into panels of NR, by k; columns past nc are zero; rows copied as f32x4. */
const PACK_B = `
  (func (export "pack_b") (param $b i32) (param $rs i32) (param $cs i32) (param $kc i32)
      (param $nc i32) (param $bp i32)
    (local $p i32) (local $k i32) (local $j i32) (local $jj i32) (local $row i32)
    ${range(NR).map((j) => `(local $o${j} i32)`).join(" ")}
    ${
  range(NR).map((j) => `(local.set $o${j} (i32.mul (local.get $cs) (i32.const ${j})))`).join(
    "\n    ",
  )
}
    (local.set $p (i32.const 0))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $nc)))
      (local.set $k (i32.const 0))
      (local.set $row (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $cs))))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $kc)))
        (if (i32.and (i32.eq (local.get $cs) (i32.const 4))
              (i32.le_u (i32.add (local.get $p) (i32.const ${NR})) (local.get $nc)))
          (then
            ${
  range(NR / 4).map((v) =>
    `(v128.store offset=${16 * v} (local.get $bp) (v128.load offset=${16 * v} (local.get $row)))`
  ).join("\n            ")
}
            (local.set $bp (i32.add (local.get $bp) (i32.const ${4 * NR}))))
          (else (if (i32.le_u (i32.add (local.get $p) (i32.const ${NR})) (local.get $nc))
          (then
            ;; A whole panel read across (a transposed B): NR loads at fixed offsets.
            ${
  range(NR).map((j) =>
    `(f32.store offset=${
      4 * j
    } (local.get $bp) (f32.load (i32.add (local.get $row) (local.get $o${j}))))`
  ).join("\n            ")
}
            (local.set $bp (i32.add (local.get $bp) (i32.const ${4 * NR}))))
          (else
            (local.set $j (i32.const 0))
            (loop $jloop
              (local.set $jj (i32.add (local.get $p) (local.get $j)))
              (f32.store (local.get $bp) (if (result f32) (i32.lt_u (local.get $jj) (local.get $nc))
                (then (f32.load (i32.add (local.get $row) (i32.mul (local.get $j) (local.get $cs)))))
                (else (f32.const 0))))
              (local.set $bp (i32.add (local.get $bp) (i32.const 4)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $jloop (i32.lt_u (local.get $j) (i32.const ${NR}))))))))
        (local.set $row (i32.add (local.get $row) (local.get $rs)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kloop)))
      (local.set $p (i32.add (local.get $p) (i32.const ${NR})))
      (br $ploop))))`;

/** Rows of A (and of C) per dot-product tile. */
export const DM = 3;
/** Rows of B (columns of C) per dot-product tile. */
export const DN = 3;

/**
 * A dot-product tile `C[mr, nr] (+)= A[mr, k] · B[nr, k]ᵀ` with both operands read along k as
 * they lie (no packing), for products with few rows and a transposed B (an output head at a few
 * positions): `mr · nr` `f32x4` accumulators, summed across lanes at the end.
 */
function dotKernel(madd: Madd, mr: number, nr: number): string {
  const pairs = range(mr).flatMap((i) => range(nr).map((j) => [i, j]));
  const rows = [...range(mr).map((i) => `pa${i}`), ...range(nr).map((j) => `pb${j}`)];
  // One step of 4 k's at byte offset `at` from the row pointers: B's rows loaded, then A's one
  // at a time (mr·nr + nr + 1 vectors live).
  const chunk = (at: number) =>
    [
      ...range(nr).map((j) => `(local.set $b${j} (v128.load offset=${at} ${get(`pb${j}`)}))`),
      ...range(mr).flatMap((i) => [
        `(local.set $x (v128.load offset=${at} ${get(`pa${i}`)}))`,
        ...range(nr).map((j) =>
          `(local.set $s${i}_${j} ${madd(get("x"), get(`b${j}`), get(`s${i}_${j}`))})`
        ),
      ]),
    ].join("\n      ");
  const advance = (bytes: number) =>
    rows.map((r) => `(local.set $${r} (i32.add ${get(r)} ${i32(bytes)}))`).join("\n      ");
  const lane = (i: number, j: number) =>
    range(4).map((l) => `(f32x4.extract_lane ${l} ${get(`s${i}_${j}`)})`).reduce((x, y) =>
      `(f32.add ${x} ${y})`
    );
  const tail = (i: number, j: number) =>
    `(f32.mul (f32.load ${get(`pa${i}`)}) (f32.load ${get(`pb${j}`)}))`;
  return `
  (func $dot${mr}_${nr} (param $k i32) (param $a i32) (param $lda i32) (param $b i32)
      (param $ldb i32) (param $c i32) (param $ldc i32) (param $acc i32)
    (local $n i32) (local $x v128) ${rows.map((r) => `(local $${r} i32)`).join(" ")}
    ${range(nr).map((j) => `(local $b${j} v128)`).join(" ")}
    ${pairs.map(([i, j]) => `(local $s${i}_${j} v128) (local $f${i}_${j} f32)`).join(" ")}
    ${
    range(mr).map((i) =>
      `(local.set $pa${i} (i32.add ${get("a")} (i32.mul ${get("lda")} ${i32(i)})))`
    ).join("\n    ")
  }
    ${
    range(nr).map((j) =>
      `(local.set $pb${j} (i32.add ${get("b")} (i32.mul ${get("ldb")} ${i32(j)})))`
    ).join("\n    ")
  }
    (local.set $n (i32.shr_u ${get("k")} ${i32(3)}))
    (if ${get("n")} (then (loop $eight
      ${chunk(0)}
      ${chunk(16)}
      ${advance(32)}
      (local.set $n (i32.sub ${get("n")} ${i32(1)}))
      (br_if $eight ${get("n")}))))
    (if (i32.and ${get("k")} ${i32(4)}) (then
      ${chunk(0)}
      ${advance(16)}))
    ${pairs.map(([i, j]) => `(local.set $f${i}_${j} ${lane(i, j)})`).join("\n    ")}
    (local.set $n (i32.and ${get("k")} ${i32(3)}))
    (if ${get("n")} (then (loop $one
      ${
    pairs.map(([i, j]) => `(local.set $f${i}_${j} (f32.add ${get(`f${i}_${j}`)} ${tail(i, j)}))`)
      .join("\n      ")
  }
      ${advance(4)}
      (local.set $n (i32.sub ${get("n")} ${i32(1)}))
      (br_if $one ${get("n")}))))
    ${
    pairs.map(([i, j]) => {
      const at = `(i32.add ${get("c")} (i32.add (i32.mul ${get("ldc")} ${i32(i)}) ${i32(4 * j)}))`;
      return `(f32.store ${at} (select (f32.add (f32.load ${at}) ${get(`f${i}_${j}`)}) ${
        get(`f${i}_${j}`)
      } ${get("acc")}))`;
    }).join("\n    ")
  })`;
}

/** `dot_block`: `C[m, n] (+)= A[m, k] · B[n, k]ᵀ` by dot-product tiles, B's tiles outside. */
function dotBlock(): string {
  const call = (mr: number, nr: number) =>
    `(call $dot${mr}_${nr} ${get("k")} (i32.add ${get("a")} (i32.mul ${get("i")} ${get("lda")}))
      ${get("lda")} (i32.add ${get("b")} (i32.mul ${get("j")} ${get("ldb")})) ${get("ldb")}
      (i32.add ${get("c")} (i32.add (i32.mul ${get("i")} ${get("ldc")}) (i32.shl ${get("j")} ${
      i32(2)
    }))) ${get("ldc")} ${get("acc")})`;
  // A chain of ifs on (rows left, columns left), the full tile first.
  const dispatch = range(DM).reverse().flatMap((mi) =>
    range(DN).reverse().map((nj) => [mi + 1, nj + 1])
  ).reduceRight(
    (rest, [mr, nr]) =>
      `(if (i32.and (i32.eq ${get("mr")} ${i32(mr)}) (i32.eq ${get("nr")} ${i32(nr)}))
        (then ${call(mr, nr)}) (else ${rest}))`,
    "(unreachable)",
  );
  return `
  (func (export "dot_block") (param $m i32) (param $n i32) (param $k i32) (param $a i32)
      (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $mr i32) (local $nr i32)
    (local.set $j ${i32(0)})
    (block $jdone (loop $jl
      (br_if $jdone (i32.ge_u ${get("j")} ${get("n")}))
      (local.set $nr (select (i32.sub ${get("n")} ${get("j")}) ${i32(DN)}
        (i32.lt_u (i32.sub ${get("n")} ${get("j")}) ${i32(DN)})))
      (local.set $i ${i32(0)})
      (block $idone (loop $il
        (br_if $idone (i32.ge_u ${get("i")} ${get("m")}))
        (local.set $mr (select (i32.sub ${get("m")} ${get("i")}) ${i32(DM)}
          (i32.lt_u (i32.sub ${get("m")} ${get("i")}) ${i32(DM)})))
        ${dispatch}
        (local.set $i (i32.add ${get("i")} ${i32(DM)}))
        (br $il)))
      (local.set $j (i32.add ${get("j")} ${i32(DN)}))
      (br $jl))))`;
}

/**
 * The module's text.
 *
 * @param options `relaxed`: multiply-adds as `f32x4.relaxed_madd`; `shared`: the imported memory
 *   is a shared one (tfjs's threaded build), so that workers can run the kernel on it too
 * @returns WebAssembly text for wabt
 * @example
 * ```ts
 * import { gemmWat } from "./gemm_wat.ts";
 * import assert from "node:assert/strict";
 * assert.match(gemmWat({ relaxed: true, shared: true }), /relaxed_madd/);
 * ```
 */
export function gemmWat(options: { relaxed: boolean; shared: boolean }): string {
  const madd = options.relaxed ? relaxed : split;
  const memory = options.shared ? "(memory 1 65536 shared)" : "(memory 1)";
  return `(module
  (import "env" "memory" ${memory})
  ${microKernel(madd)}
  ${BLOCK}
  ${PACK_A}
  ${PACK_B}
  ${range(DM).flatMap((i) => range(DN).map((j) => dotKernel(madd, i + 1, j + 1))).join("\n")}
  ${dotBlock()})
`;
}
