/**
 * SHA-256 of many RFC 6962 tree nodes per call, for the storage-proof commitment (a refresh after
 * 100,000 changes at 10 M messages hashes ~3 M inner nodes). Per 65-byte node node:crypto's
 * one-shot `hash` took 1.65 µs CPU and hash-wasm 1.04 µs (load ~8), mostly per-call work (the JS
 * wrappers, a Buffer or a digest copy per call); here a call hashes a whole batch (a level, a
 * bucket's whole tree) in WebAssembly with nothing allocated per node, four nodes of a level at
 * once in the lanes of SIMD vectors while four are left: 0.29 µs a node (load ~11; one node at a
 * time 0.53 µs, about native scalar SHA-256; bench/proofs-sha256.ts; docs/benchmarks.md,
 * "Session 8: churn at 10 M").
 *
 * The module is generated here, at first use, rather than shipped as bytes: its only functions
 * are the three node shapes below, each SHA-256 fully unrolled, with every message word the
 * padding fixes (an inner node's second block is one data byte, then the padding and the length)
 * folded into constants. Equivalence with node:crypto is tested over random inputs
 * (test/unit/crypto/sha256-batch.test.ts).
 *
 *   entry(p, out):  out = SHA-256(0x00 ‖ mem[p, p + 32))            (a leaf of a 32-byte value)
 *   node(p, out):   out = SHA-256(0x01 ‖ mem[p, p + 64))            (an inner node: left ‖ right)
 *   node4(p, out):  node for the four pairs from p, 64 bytes apart, into out, 32 apart (SIMD)
 *   entries / parents(src, dst, count): the same for `count` values / pairs laid end to end
 *   root(p, n):     the RFC 6962 root of the n ≥ 1 nodes at p (pairs hashed, an odd last one
 *                   promoted), computed in place; written at p
 *   leaf(p, out):   out = SHA-256(0x00 ‖ mem[p, p + 137))           (a storage-proof leaf entry)
 *   leaves(src, dst, count): leaf for `count` entries laid end to end
 *
 * A node at p reads the word at p - 1 (its first byte is the prefix's place, masked out).
 */

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Where callers' data starts in the module's memory (a node at p reads from p - 1). */
const DATA = 256;
const PAGE = 65_536;

// WebAssembly opcodes used.
const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, br: 0x0c, brIf: 0x0d, call: 0x10,
  get: 0x20, set: 0x21, tee: 0x22,
  load: 0x28, load64: 0x29, load8u: 0x2d, store: 0x36, store64: 0x37,
  const: 0x41,
  eqz: 0x45, leU: 0x4d,
  add: 0x6a, sub: 0x6b, and: 0x71, or: 0x72, xor: 0x73, shl: 0x74, shrU: 0x76, rotl: 0x77, rotr: 0x78,
} as const;
const I32 = 0x7f;
const VOID = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(value: number): number[] {
  let n = value | 0;
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const c32 = (v: number): number[] => [OP.const, ...sleb(v)];
const get = (l: number): number[] => [OP.get, ...uleb(l)];
const set = (l: number): number[] => [OP.set, ...uleb(l)];
/** i32.load/store with byte alignment (hint 0) and an offset. */
const mem = (op: number, offset: number): number[] => [op, 0, ...uleb(offset)];

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
const bsig0 = (x: number): number => rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
const bsig1 = (x: number): number => rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10);

/**
 * The operations of a compression on one message (i32) or on four at once, one per lane (v128:
 * WebAssembly SIMD has no lane rotate, so a rotate is two shifts and an or).
 */
interface Ops {
  readonly type: number;
  readonly add: number[];
  readonly and: number[];
  readonly or: number[];
  readonly xor: number[];
  konst(v: number): number[];
  /** Local `l` rotated right by n / shifted right by n. */
  rotr(l: number, n: number): number[];
  shr(l: number, n: number): number[];
}

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const V = {splat: 0x11, extract: 0x1b, replace: 0x1c, and: 0x4e, or: 0x50, xor: 0x51, shl: 0xab, shrU: 0xad, add: 0xae} as const;

const SCALAR: Ops = {
  type: I32,
  add: [OP.add],
  and: [OP.and],
  or: [OP.or],
  xor: [OP.xor],
  konst: (v) => c32(v),
  rotr: (l, n) => [...get(l), ...c32(n), OP.rotr],
  shr: (l, n) => [...get(l), ...c32(n), OP.shrU],
};

const LANES: Ops = {
  type: 0x7b,
  add: simd(V.add),
  and: simd(V.and),
  or: simd(V.or),
  xor: simd(V.xor),
  konst: (v) => [...c32(v), ...simd(V.splat)],
  rotr: (l, n) => [...get(l), ...c32(n), ...simd(V.shrU), ...get(l), ...c32(32 - n), ...simd(V.shl), ...simd(V.or)],
  shr: (l, n) => [...get(l), ...c32(n), ...simd(V.shrU)],
};

/** Code of rotr(x, r1) ^ rotr(x, r2) ^ (rotr or shr)(x, r3) for the value in local `l`. */
function sigma(o: Ops, l: number, r1: number, r2: number, r3: number, shift: boolean): number[] {
  return [...o.rotr(l, r1), ...o.rotr(l, r2), ...o.xor, ...(shift ? o.shr(l, r3) : o.rotr(l, r3)), ...o.xor];
}

/** Byte swap of the i32 on the stack (SHA-256 is big-endian, WebAssembly little-endian); uses local `tmp`. */
function bswap(tmp: number): number[] {
  return [OP.tee, ...uleb(tmp), ...c32(8), OP.rotr, ...c32(0xff00ff00), OP.and, ...get(tmp), ...c32(8), OP.rotl, ...c32(0x00ff00ff), OP.and, OP.or];
}

/** A message word: a constant (padding, length) or code leaving it on the stack. */
type Word = number | number[];

/** Locals of a compression function: the state a–h, the chaining value, the schedule window, temporaries. */
interface Locals {
  readonly state: number[];
  readonly chain: number[];
  readonly w: number[];
  readonly t1: number;
  readonly tmp: number;
}

/**
 * One compression of the block given by `words` into `L.chain`, fully unrolled: a word known at
 * build time (the padding's) is folded, with every schedule word that depends only on such words.
 */
function compress(words: readonly Word[], L: Locals, o: Ops = SCALAR): number[] {
  const code: number[] = [];
  const known: (number | null)[] = [];
  for (let i = 0; i < 16; i++) {
    const w = words[i] as Word;
    if (typeof w === "number") known.push(w | 0);
    else {
      known.push(null);
      code.push(...w, ...set(L.w[i] as number));
    }
  }
  for (let i = 0; i < 8; i++) code.push(...get(L.chain[i] as number), ...set(L.state[i] as number));
  // roles[k] is the local holding state variable k (a … h) at this round: each round shifts them by one.
  let roles = [...L.state];
  const wl = (t: number): number => L.w[t % 16] as number;
  for (let t = 0; t < 64; t++) {
    if (t >= 16) {
      const parts = [known[t - 2], known[t - 7], known[t - 15], known[t - 16]];
      if (parts.every((p) => p !== null)) {
        const v = (bsig1(parts[0] as number) + (parts[1] as number) + bsig0(parts[2] as number) + (parts[3] as number)) | 0;
        known[t] = v;
      } else {
        let constant = 0;
        const terms: number[][] = [];
        const term = (k: number | null | undefined, fn: ((x: number) => number) | null, codeOf: () => number[]): void => {
          if (k === null || k === undefined) terms.push(codeOf());
          else constant = (constant + (fn === null ? k : fn(k))) | 0;
        };
        term(known[t - 2], bsig1, () => sigma(o, wl(t - 2), 17, 19, 10, true));
        term(known[t - 7], null, () => get(wl(t - 7)));
        term(known[t - 15], bsig0, () => sigma(o, wl(t - 15), 7, 18, 3, true));
        term(known[t - 16], null, () => get(wl(t - 16)));
        code.push(...(terms[0] as number[]));
        for (const tm of terms.slice(1)) code.push(...tm, ...o.add);
        if (constant !== 0) code.push(...o.konst(constant), ...o.add);
        code.push(...set(wl(t)));
        known[t] = null;
      }
    }
    const [a, b, c, d, e, f, g, h] = roles as [number, number, number, number, number, number, number, number];
    const kw = known[t];
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]
    code.push(...get(h), ...sigma(o, e, 6, 11, 25, false), ...o.add);
    code.push(...get(g), ...get(e), ...get(f), ...get(g), ...o.xor, ...o.and, ...o.xor, ...o.add);
    if (kw === null || kw === undefined) code.push(...o.konst(K[t] as number), ...o.add, ...get(wl(t)), ...o.add);
    else code.push(...o.konst(((K[t] as number) + kw) | 0), ...o.add);
    code.push(OP.tee, ...uleb(L.t1));
    // e' = d + T1 (into d's local); a' = T1 + Σ0(a) + Maj(a, b, c) (into h's local)
    code.push(...get(d), ...o.add, ...set(d));
    code.push(...get(L.t1), ...sigma(o, a, 2, 13, 22, false), ...o.add);
    code.push(...get(a), ...get(b), ...o.and, ...get(c), ...get(a), ...get(b), ...o.or, ...o.and, ...o.or, ...o.add, ...set(h));
    roles = [h, a, b, c, d, e, f, g];
  }
  // After 64 rounds the roles are back where they started.
  for (let i = 0; i < 8; i++) code.push(...get(L.chain[i] as number), ...get(roles[i] as number), ...o.add, ...set(L.chain[i] as number));
  return code;
}

/** Locals 0 and 1 are the parameters (p, out); then the compression's. */
function compressLocals(): {L: Locals; count: number} {
  let next = 2;
  const take = (n: number): number[] => Array.from({length: n}, () => next++);
  const L: Locals = {state: take(8), chain: take(8), w: take(16), t1: next++, tmp: next++};
  return {L, count: next - 2};
}

/** Code setting the chaining value to the IV, and storing it big-endian at local `out`. */
const initChain = (L: Locals): number[] => IV.flatMap((v, i) => [...c32(v), ...set(L.chain[i] as number)]);
const storeChain = (L: Locals, out: number): number[] =>
  L.chain.flatMap((l, i) => [...get(out), ...get(l), ...bswap(L.tmp), ...mem(OP.store, 4 * i)]);

/** The big-endian word of the bytes p - 1 + 4i … (local 0 is p; the word at p - 1 takes the prefix's place). */
const wordAt = (L: Locals, i: number): number[] => [...get(0), ...mem(OP.load, 4 * i + 3), ...bswap(L.tmp)];
// (Local 0 is set to p - 4 first, so p + 4i - 1 is an unsigned offset from it; p ≥ DATA.)

/** Function body: SHA-256(prefix ‖ mem[p, p + len)) for len 32 (one block) or 64 (two). */
function hashBody(prefix: number, len: 32 | 64): number[] {
  const {L, count} = compressLocals();
  const code: number[] = [...get(0), ...c32(4), OP.sub, ...set(0)];
  code.push(...initChain(L));
  const first: Word[] = [];
  // Word 0: prefix byte, then the data's first three bytes.
  first.push([...wordAt(L, 0), ...c32(0x00ffffff), OP.and, ...(prefix === 0 ? [] : [...c32(prefix << 24), OP.or])]);
  const lastByte = (at: number): number[] => [...get(0), ...mem(OP.load8u, at + 4), ...c32(24), OP.shl, ...c32(0x00800000), OP.or];
  if (len === 32) {
    for (let i = 1; i < 8; i++) first.push(wordAt(L, i));
    first.push(lastByte(31), 0, 0, 0, 0, 0, 0, 33 * 8);
    code.push(...compress(first, L));
  } else {
    for (let i = 1; i < 16; i++) first.push(wordAt(L, i));
    code.push(...compress(first, L));
    code.push(...compress([lastByte(63), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 65 * 8], L));
  }
  code.push(...storeChain(L, 1));
  return body([[count, I32]], code);
}

/**
 * Function body: SHA-256(prefix ‖ mem[p, p + len)) for any len (the message's words read in
 * place, the padding's folded as in hashBody; a word that straddles the end is masked, so up to
 * three bytes past the data are read and ignored).
 */
function messageBody(prefix: number, len: number): number[] {
  const {L, count} = compressLocals();
  const code: number[] = [...get(0), ...c32(4), OP.sub, ...set(0)];
  code.push(...initChain(L));
  const total = len + 1;
  const blocks = Math.ceil((total + 9) / 64);
  const words: Word[] = [];
  for (let j = 0; j < blocks * 16; j++) {
    const from = 4 * j;
    if (j === blocks * 16 - 1) words.push(total * 8);
    else if (from + 3 <= len) words.push(j === 0 ? [...wordAt(L, 0), ...c32(0x00ffffff), OP.and, ...(prefix === 0 ? [] : [...c32(prefix << 24), OP.or])] : wordAt(L, j));
    else if (from <= len) {
      // Bytes from … len are the message's, len + 1 is the padding's 0x80, the rest zeros.
      const kept = total - from;
      const mask = (0xffffffff << (32 - 8 * kept)) | 0;
      words.push([...wordAt(L, j), ...c32(mask), OP.and, ...c32((0x80 << (24 - 8 * kept)) | 0), OP.or]);
    } else words.push(from === total ? (0x80 << 24) | 0 : 0);
  }
  for (let b = 0; b < blocks; b++) code.push(...compress(words.slice(16 * b, 16 * b + 16), L));
  code.push(...storeChain(L, 1));
  return body([[count, I32]], code);
}

/** Bytes of a storage-proof leaf entry (proofs/constants.ts LEAF_ENTRY_BYTES), hashed after a 0x00. */
export const LEAF_INPUT_BYTES = 137;

/**
 * Function body: SHA-256(0x01 ‖ mem[p + 64k, p + 64k + 64)) written at out + 32k for k = 0 … 3,
 * the four messages in the four lanes of v128 locals (their words gathered lane by lane).
 */
function node4Body(): number[] {
  // Locals: 0 p, 1 out, 2 tmp (i32); then v128: state, chain, schedule window, t1.
  let next = 3;
  const take = (n: number): number[] => Array.from({length: n}, () => next++);
  const L: Locals = {state: take(8), chain: take(8), w: take(16), t1: next++, tmp: 2};
  const lanes = (word: (k: number) => number[]): number[] => [
    ...word(0),
    ...simd(V.splat),
    ...[1, 2, 3].flatMap((k) => [...word(k), ...simd(V.replace), k]),
  ];
  const wordAt4 = (i: number, k: number): number[] => [...get(0), ...mem(OP.load, 64 * k + 4 * i + 3), ...bswap(L.tmp)];
  const code: number[] = [...get(0), ...c32(4), OP.sub, ...set(0)];
  code.push(...IV.flatMap((v, i) => [...LANES.konst(v), ...set(L.chain[i] as number)]));
  const first: Word[] = [lanes((k) => [...wordAt4(0, k), ...c32(0x00ffffff), OP.and, ...c32(0x01000000), OP.or])];
  for (let i = 1; i < 16; i++) first.push(lanes((k) => wordAt4(i, k)));
  code.push(...compress(first, L, LANES));
  const last = lanes((k) => [...get(0), ...mem(OP.load8u, 64 * k + 63 + 4), ...c32(24), OP.shl, ...c32(0x00800000), OP.or]);
  code.push(...compress([last, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 65 * 8], L, LANES));
  for (let k = 0; k < 4; k++) {
    for (let i = 0; i < 8; i++) code.push(...get(1), ...get(L.chain[i] as number), ...simd(V.extract), k, ...bswap(L.tmp), ...mem(OP.store, 32 * k + 4 * i));
  }
  return body([[1, I32], [next - 3, 0x7b]], code);
}

function body(locals: [number, number][], code: number[]): number[] {
  const b = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t]), ...code, OP.end];
  return [...uleb(b.length), ...b];
}

/** entries / parents(src, dst, count): calls `fn` (entry or node) on each item; `step` input bytes per item. */
function batchBody(fn: number, step: number): number[] {
  return body([], batchLoop(fn, step));
}

/** The loop of batchBody (locals: 0 src, 1 dst, 2 count). */
function batchLoop(fn: number, step: number): number[] {
  return [
    OP.block, VOID, OP.loop, VOID,
    ...get(2), OP.eqz, OP.brIf, 1,
    ...get(0), ...get(1), OP.call, ...uleb(fn),
    ...get(0), ...c32(step), OP.add, ...set(0),
    ...get(1), ...c32(32), OP.add, ...set(1),
    ...get(2), ...c32(1), OP.sub, ...set(2),
    OP.br, 0, OP.end, OP.end,
  ];
}

/** parents(src, dst, count): four nodes a call of `node4` while four are left, then one a call of `node`. */
function parentsBody(node: number, node4: number): number[] {
  return body([], [
    OP.block, VOID, OP.loop, VOID,
    ...get(2), ...c32(4), 0x49 /* i32.lt_u */, OP.brIf, 1,
    ...get(0), ...get(1), OP.call, ...uleb(node4),
    ...get(0), ...c32(256), OP.add, ...set(0),
    ...get(1), ...c32(128), OP.add, ...set(1),
    ...get(2), ...c32(4), OP.sub, ...set(2),
    OP.br, 0, OP.end, OP.end,
    ...batchLoop(node, 64),
  ]);
}

/** root(p, n): in place, level by level, four nodes a call of `node4` while four are left; locals 2 size, 3 j, 4 half. */
function rootBody(node: number, node4: number): number[] {
  const copyNode = (from: number[], to: number[]): number[] =>
    [0, 8, 16, 24].flatMap((o) => [...to, ...from, ...mem(OP.load64, o), ...mem(OP.store64, o)]);
  return body([[3, I32]], [
    ...get(1), ...set(2),
    OP.block, VOID, OP.loop, VOID,
    ...get(2), ...c32(1), OP.leU, OP.brIf, 1,
    ...get(2), ...c32(1), OP.shrU, ...set(4),
    ...c32(0), ...set(3),
    OP.block, VOID, OP.loop, VOID,
    ...get(3), ...c32(4), OP.add, ...get(4), 0x4b /* i32.gt_u */, OP.brIf, 1,
    ...get(0), ...get(3), ...c32(6), OP.shl, OP.add,
    ...get(0), ...get(3), ...c32(5), OP.shl, OP.add,
    OP.call, ...uleb(node4),
    ...get(3), ...c32(4), OP.add, ...set(3),
    OP.br, 0, OP.end, OP.end,
    OP.block, VOID, OP.loop, VOID,
    ...get(3), ...get(4), 0x4f /* i32.ge_u */, OP.brIf, 1,
    ...get(0), ...get(3), ...c32(6), OP.shl, OP.add,
    ...get(0), ...get(3), ...c32(5), OP.shl, OP.add,
    OP.call, ...uleb(node),
    ...get(3), ...c32(1), OP.add, ...set(3),
    OP.br, 0, OP.end, OP.end,
    // An odd last node moves up unchanged, to slot `half`.
    ...get(2), ...c32(1), OP.and, OP.eqz, OP.eqz,
    0x04 /* if */, VOID,
    ...copyNode([...get(0), ...get(2), ...c32(1), OP.sub, ...c32(5), OP.shl, OP.add], [...get(0), ...get(4), ...c32(5), OP.shl, OP.add]),
    OP.end,
    ...get(2), ...c32(1), OP.add, ...c32(1), OP.shrU, ...set(2),
    OP.br, 0, OP.end, OP.end,
  ]);
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

/** The module's bytes. Functions: 0 entry, 1 node, 2 entries, 3 parents, 4 root, 5 node4 (internal), 6 leaf, 7 leaves. */
export function sha256BatchModuleBytes(): Uint8Array {
  const types = [
    [0x60, 2, I32, I32, 0], // (p, out)
    [0x60, 3, I32, I32, I32, 0], // (src, dst, count)
  ];
  const funcs = [0, 0, 1, 1, 0, 0, 0, 1];
  const exports: [string, number, number][] = [["memory", 2, 0], ["entry", 0, 0], ["node", 0, 1], ["entries", 0, 2], ["parents", 0, 3], ["root", 0, 4], ["leaves", 0, 7]];
  const bodies = [hashBody(0x00, 32), hashBody(0x01, 64), batchBody(0, 32), parentsBody(1, 5), rootBody(1, 5), node4Body(), messageBody(0x00, LEAF_INPUT_BYTES), batchBody(6, LEAF_INPUT_BYTES)];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...section(3, [...uleb(funcs.length), ...funcs]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [...uleb(exports.length), ...exports.flatMap(([name, kind, index]) => [...str(name), kind, ...uleb(index)])]),
    ...section(10, [...uleb(bodies.length), ...bodies.flat()]),
  ]);
}

/** The part of the WebAssembly API used here (this project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => {readonly exports: unknown};
};

interface Exports {
  readonly memory: WasmMemory;
  entries(src: number, dst: number, count: number): void;
  parents(src: number, dst: number, count: number): void;
  leaves(src: number, dst: number, count: number): void;
  root(p: number, n: number): void;
}

let instance: Exports | null = null;
let view = Buffer.alloc(0);

function wasm(): Exports {
  if (instance === null) {
    instance = new WebAssembly.Instance(new WebAssembly.Module(sha256BatchModuleBytes()), {}).exports as Exports;
    view = Buffer.from(instance.memory.buffer);
  }
  return instance;
}

/** The module's memory with at least `bytes` from DATA (grown as needed; a view of it). */
function memoryFor(bytes: number): Buffer {
  const w = wasm();
  const need = DATA + bytes;
  if (w.memory.buffer.byteLength < need) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / PAGE));
  if (view.buffer !== w.memory.buffer) view = Buffer.from(w.memory.buffer);
  return view;
}

/** Items hashed per call of entries / parents: 64 KB of input, so the memory stays small. */
const BATCH = 1024;

/** out[i] = SHA-256(0x00 ‖ src[i]) for the `count` 32-byte values at `from` of `src`, written from `at` of `out`. */
export function sha256EntriesInto(src: Uint8Array, from: number, count: number, out: Uint8Array, at: number): void {
  batch(src, from, count, out, at, 32);
}

/** Hashes `count` items of `step` (32: entries, 64: parents, 137: leaves) bytes BATCH at a time through the module's memory. */
function batch(src: Uint8Array, from: number, count: number, out: Uint8Array, at: number, step: 32 | 64 | typeof LEAF_INPUT_BYTES): void {
  const w = wasm();
  for (let done = 0; done < count; done += BATCH) {
    const k = Math.min(BATCH, count - done);
    // Four bytes of slack: a leaf's last word is read whole and masked (messageBody).
    const m = memoryFor(BATCH * step + 4 + BATCH * 32);
    const dst = DATA + BATCH * step + 4;
    m.set(src.subarray(from + done * step, from + (done + k) * step), DATA);
    if (step === 32) w.entries(DATA, dst, k);
    else if (step === 64) w.parents(DATA, dst, k);
    else w.leaves(DATA, dst, k);
    out.set(m.subarray(dst, dst + 32 * k), at + done * 32);
  }
}

/**
 * out[i] = SHA-256(0x00 ‖ src[i]) for the `count` 137-byte leaf entries (proofs/leaf.ts
 * `writeLeafEntry`) at `from` of `src`, laid end to end: a refresh's changed messages in one call
 * instead of node:crypto's one-shot hash and a Buffer each.
 */
export function sha256LeavesInto(src: Uint8Array, from: number, count: number, out: Uint8Array, at: number): void {
  batch(src, from, count, out, at, LEAF_INPUT_BYTES);
}

/** out[i] = SHA-256(0x01 ‖ src[2i] ‖ src[2i + 1]) for the `count` pairs of 32-byte nodes at `from` of `src`. */
export function sha256ParentsInto(src: Uint8Array, from: number, count: number, out: Uint8Array, at: number): void {
  batch(src, from, count, out, at, 64);
}

/**
 * RFC 6962 root (crypto/merkle.ts `rootOf`: pairs hashed, an odd last node promoted) of the `n` ≥ 1
 * 32-byte nodes at `from` of `nodes`, written at `at` of `out`: one call for the whole tree.
 */
export function sha256RootInto(nodes: Uint8Array, from: number, n: number, out: Uint8Array, at: number): void {
  const m = memoryFor(32 * n);
  m.set(nodes.subarray(from, from + 32 * n), DATA);
  wasm().root(DATA, n);
  out.set(m.subarray(DATA, DATA + 32), at);
}
