import assert from "node:assert/strict";
import {
  encodeNpy,
  type HostTensor,
  hostTensor,
  parseNpy,
  readNpy,
  stats,
  writeNpy,
} from "../io/mod.ts";
import { bfloat16Bits, float16Bits } from "../io/host_tensor.ts";
import { left, right } from "./_io_helpers.ts";

// ---- helpers (each io test file keeps its own: tests import nothing but the library) ----

const fixture = (p: string) => new URL(`./fixtures/io/${p}`, import.meta.url);
const sharedData = (p: string) => new URL(`./data/${p}`, import.meta.url);

function requireFile(url: URL): void {
  try {
    Deno.statSync(url);
  } catch {
    throw new Error(
      `Reference file ${url.pathname} is missing from tests/data/ (see tests/data/README.md)`,
    );
  }
}

interface Expected {
  dtype: string;
  shape: number[];
  values: (number | string)[];
  bits?: number[];
}

const loadJson = <T>(p: string): T => JSON.parse(Deno.readTextFileSync(fixture(p)));

function assertValues(h: HostTensor, e: Expected, label: string): void {
  assert.equal(h.dtype, e.dtype, `${label}: dtype`);
  assert.deepEqual([...h.shape], e.shape, `${label}: shape`);
  assert.equal(h.data.length, e.values.length, `${label}: length`);
  if (e.bits) {
    assert.deepEqual([...(h.data as Uint16Array)], e.bits, `${label}: bits`);
    return;
  }
  for (let i = 0; i < e.values.length; i++) {
    const want = e.values[i];
    const got = h.data[i];
    const at = `${label}[${i}]`;
    if (h.dtype === "int64") assert.equal(got, BigInt(want as string), at);
    else if (want === "nan") assert.ok(Number.isNaN(got), `${at}: ${got} is not NaN`);
    else if (want === "inf") assert.equal(got, Infinity, at);
    else if (want === "-inf") assert.equal(got, -Infinity, at);
    else if (want === "-0") assert.ok(Object.is(got, -0), `${at}: ${got} is not -0`);
    else assert.ok(Object.is(got, want), `${at}: got ${got}, expected ${want}`);
  }
}

/** An .npy file with a hand-written header (padded like numpy) and the given data bytes. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const pad = 64 - ((pre + header.length + 1) % 64);
  const text = header + " ".repeat(pad) + "\n";
  const out = new Uint8Array(pre + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  out.set(new TextEncoder().encode(text), pre);
  out.set(data, pre + text.length);
  return out;
}

const f32Header = (shape: string) =>
  `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;

// ---- real files ----

interface Summary {
  path: string;
  dtype: string;
  shape: number[];
  sum: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  first: (number | string)[];
  last: (number | string)[];
  sha256: string;
}

const hex = (b: ArrayBuffer) =>
  [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const close = (a: number, b: number, rel: number) =>
  Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

for (const s of loadJson<Summary[]>("real_summaries.json")) {
  Deno.test(`readNpy() reads ${s.path} exactly as numpy does`, async () => {
    const url = sharedData(s.path);
    requireFile(url);
    const h = right(await readNpy(url));
    assert.equal(h.dtype, s.dtype);
    assert.deepEqual([...h.shape], s.shape);
    const d = h.data as Float32Array | Float64Array;
    assert.deepEqual([...d.subarray(0, 8)], s.first);
    assert.deepEqual([...d.subarray(d.length - 8)], s.last);
    // Every byte, not a sample: the sha256 of the C-order little-endian data numpy holds.
    const digest = await crypto.subtle.digest("SHA-256", d.slice().buffer);
    assert.equal(hex(digest), s.sha256);
    let sum = 0;
    for (const x of d) sum += x;
    assert.ok(close(sum, s.sum, 1e-9), `sum ${sum} vs numpy ${s.sum}`);
    const st = stats(h);
    assert.ok(close(st.mean, s.mean, 1e-9), `mean ${st.mean} vs numpy ${s.mean}`);
    assert.ok(close(st.std, s.std, 1e-12), `std ${st.std} vs numpy ${s.std}`);
    assert.equal(st.min, s.min);
    assert.equal(st.max, s.max);
  });
}

// ---- every dtype, byte order and layout numpy writes ----

const expected = loadJson<Record<string, Expected>>("npy/expected.json");
const multiByte = ["float16", "float32", "float64", "int16", "int32", "int64"];
const oneByte = ["int8", "uint8", "bool"];

for (const dtype of [...multiByte, ...oneByte]) {
  for (const order of multiByte.includes(dtype) ? ["le", "be"] : ["le"]) {
    for (const layout of ["c", "f"]) {
      const orderText = order === "le" ? "little-endian" : "big-endian";
      const layoutText = layout === "c" ? "C order" : "Fortran order";
      Deno.test(`parseNpy() reads ${orderText} ${dtype} in ${layoutText}`, () => {
        const name = `npy/${dtype}_${order}_${layout}.npy`;
        const h = right(parseNpy(Deno.readFileSync(fixture(name)), name));
        assertValues(h, expected[dtype], name);
      });
    }
  }
}

Deno.test("parseNpy() reads format versions 2.0 and 3.0", () => {
  for (const v of ["v2", "v3"]) {
    const bytes = Deno.readFileSync(fixture(`npy/float32_${v}.npy`));
    assert.equal(bytes[6], Number(v[1]));
    assertValues(right(parseNpy(bytes, v)), expected.float32, v);
  }
});

Deno.test("parseNpy() reads a scalar, an empty array and a vector", () => {
  for (const name of ["scalar_f8", "empty_f4", "vector_i4"]) {
    const h = right(parseNpy(Deno.readFileSync(fixture(`npy/${name}.npy`)), name));
    assertValues(h, expected[name], name);
  }
});

Deno.test("parseNpy() accepts '=' and '|' byte orders as little-endian", () => {
  const base = Deno.readFileSync(fixture("npy/float32_le_c.npy"));
  const text = new TextDecoder("latin1").decode(base);
  for (const order of ["=", "|"]) {
    const patched = new Uint8Array(base);
    patched[text.indexOf("'<f4'") + 1] = order.charCodeAt(0);
    assertValues(right(parseNpy(patched, order)), expected.float32, order);
  }
});

Deno.test("parseNpy() accepts a Python 2 header with long integers", () => {
  const data = new Uint8Array(new Float32Array([1, 2]).buffer);
  const h = right(
    parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", data), "py2"),
  );
  assert.deepEqual([...h.shape], [2]);
});

Deno.test("parseNpy() refuses object, structured, string and unsigned wide dtypes", () => {
  const cases: [string, RegExp][] = [
    ["object", /Object arrays .* pickle/],
    ["structured", /Structured dtypes/],
    ["unicode", /Unsupported dtype '<U2'/],
    ["uint32", /Unsupported dtype '<u4'; expected one of/],
  ];
  for (const [name, pattern] of cases) {
    left(parseNpy(Deno.readFileSync(fixture(`npy/${name}.npy`)), name), "Unsupported", pattern);
  }
});

// ---- writing ----

Deno.test("encodeNpy() writes the same bytes as numpy for every dtype", () => {
  for (const dtype of [...multiByte, ...oneByte]) {
    const numpyBytes = Deno.readFileSync(fixture(`npy/${dtype}_le_c.npy`));
    const h = right(parseNpy(numpyBytes, dtype));
    assert.deepEqual(encodeNpy(h), numpyBytes, dtype);
  }
  for (const name of ["scalar_f8", "empty_f4", "vector_i4"]) {
    const numpyBytes = Deno.readFileSync(fixture(`npy/${name}.npy`));
    assert.deepEqual(encodeNpy(right(parseNpy(numpyBytes, name))), numpyBytes, name);
  }
});

Deno.test("encodeNpy() then parseNpy() returns every dtype unchanged", () => {
  const tensors: HostTensor[] = [
    hostTensor("float16", [2, 2], float16Bits([1, -0.5, Infinity, 65504])),
    hostTensor("float32", [3], new Float32Array([1.5, -0, NaN])),
    hostTensor("float64", [1, 1, 2], new Float64Array([Math.PI, -1e300])),
    hostTensor("int8", [2], new Int8Array([-128, 127])),
    hostTensor("int16", [2], new Int16Array([-32768, 32767])),
    hostTensor("int32", [2], new Int32Array([-(2 ** 31), 2 ** 31 - 1])),
    hostTensor("int64", [3], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n])),
    hostTensor("uint8", [2], new Uint8Array([0, 255])),
    hostTensor("bool", [3], new Uint8Array([1, 0, 1])),
    hostTensor("float32", [0, 5], new Float32Array(0)),
    hostTensor("int32", [], new Int32Array([42])),
  ];
  for (const t of tensors) {
    const back = right(parseNpy(encodeNpy(t), t.dtype));
    assert.equal(back.dtype, t.dtype);
    assert.deepEqual([...back.shape], [...t.shape]);
    assert.deepEqual(back.data, t.data, t.dtype);
  }
});

Deno.test("encodeNpy() widens bfloat16 to float32 exactly", () => {
  const values = [1, -2.5, 3.0e38, 1e-40, Infinity];
  const bf = hostTensor("bfloat16", [5], bfloat16Bits(values));
  const back = right(parseNpy(encodeNpy(bf), "bf16"));
  assert.equal(back.dtype, "float32");
  const bits = new Uint32Array((back.data as Float32Array).slice().buffer);
  assert.deepEqual([...bits].map((b) => b >>> 16), [...(bf.data as Uint16Array)]);
  assert.ok(bits.every((b) => (b & 0xffff) === 0), "the low 16 bits are zero");
});

Deno.test("writeNpy() writes atomically and readNpy() reads it back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/prompt.npy`;
    const t = hostTensor("float32", [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
    right(await writeNpy(path, t));
    right(await writeNpy(path, t)); // overwriting works too
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["prompt.npy"]);
    assert.deepEqual(right(await readNpy(path)).data, t.data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeNpy() into a missing directory reports NotFound", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = hostTensor("int8", [1], new Int8Array([1]));
    left(await writeNpy(`${dir}/nope/p.npy`, t), "NotFound", /directory .* does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- untrusted input ----

Deno.test("readNpy() reports a missing file as NotFound", async () => {
  left(await readNpy("/nonexistent/prompt.npy"), "NotFound", /No such file/);
});

Deno.test("readNpy() refuses a file over maxBytes before reading it", async () => {
  left(
    await readNpy(fixture("npy/float64_le_c.npy"), { maxBytes: 100 }),
    "TooLarge",
    /over the limit of 100/,
  );
});

Deno.test("parseNpy() reports truncated data", () => {
  const bytes = Deno.readFileSync(fixture("npy/float32_le_c.npy"));
  left(
    parseNpy(bytes.subarray(0, bytes.length - 3), "t"),
    "Truncated",
    /needs 96 data bytes but only 93/,
  );
});

Deno.test("parseNpy() reports bytes after the data", () => {
  const bytes = Deno.readFileSync(fixture("npy/float32_le_c.npy"));
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  left(parseNpy(longer, "t"), "Corrupt", /Found 4 unexpected bytes after the data/);
});

Deno.test("parseNpy() reports a header that lies about the shape without allocating it", () => {
  const data = new Uint8Array(8);
  left(
    parseNpy(npy(f32Header("(1000000000, 1000000000)"), data), "lie"),
    "Truncated",
    /needs 4000000000000000000 data bytes but only 8/,
  );
  left(
    parseNpy(npy(f32Header("(9007199254740993,)"), data), "lie"),
    "Corrupt",
    /expected non-negative integers/,
  );
  left(parseNpy(npy(f32Header(`(${"2, ".repeat(65)})`), data), "lie"), "Corrupt", /at most 64/);
});

Deno.test("parseNpy() reports a header length past the end of the file", () => {
  const bytes = npy(f32Header("(2,)"), new Uint8Array(8)).subarray(0, 40);
  left(
    parseNpy(bytes, "short"),
    "Truncated",
    /Header length 118 runs past the end of the file \(40 bytes\)/,
  );
  const v2 = npy(f32Header("(2,)"), new Uint8Array(8), 2);
  new DataView(v2.buffer).setUint32(8, 0xffffffff, true);
  left(parseNpy(v2, "huge"), "TooLarge", /Header length 4294967295 is over the limit/);
});

Deno.test("parseNpy() refuses bad magic, tiny files and unknown versions", () => {
  left(
    parseNpy(new TextEncoder().encode("PK\x03\x04 not an npy file"), "zip"),
    "Corrupt",
    /does not start with/,
  );
  left(parseNpy(new Uint8Array([0x93, 0x4e]), "tiny"), "Corrupt", /Not an \.npy file/);
  const v4 = npy(f32Header("(0,)"));
  v4[6] = 4;
  left(parseNpy(v4, "v4"), "Unsupported", /Format version 4\.0 is not supported/);
});

Deno.test("parseNpy() parses the header strictly and never evaluates it", () => {
  const cases: [string, RegExp][] = [
    ["__import__('os').system('true')", /not a Python dict literal/],
    ["{'descr': '<f4', 'fortran_order': False}", /expected exactly descr, fortran_order and shape/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", /expected exactly/],
    ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", /Duplicate key/],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", /'fortran_order' is not True or False/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", /expected non-negative integers/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", /floats are not allowed/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", /'shape' is not a tuple/],
    ["{'descr': 4, 'fortran_order': False, 'shape': (2,)}", /'descr' is not a string/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", /Expected ',' or '}'/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", /Unexpected text after/],
    [`{'descr': ${"(".repeat(100)}`, /Nesting deeper than 32/],
    ["{'descr': '<f4\n', 'fortran_order': False, 'shape': (2,)}", /Unterminated string/],
  ];
  for (const [header, pattern] of cases) {
    left(parseNpy(npy(header, new Uint8Array(8)), "h"), "Corrupt", pattern);
  }
});

Deno.test("parseNpy() treats (5) as the integer 5, not a 1-tuple", () => {
  left(
    parseNpy(npy(f32Header("(5)"), new Uint8Array(20)), "h"),
    "Corrupt",
    /'shape' is not a tuple/,
  );
});
