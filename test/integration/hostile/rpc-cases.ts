/**
 * Mutated client RPC requests for the hostile-input tests. Every case starts from a valid,
 * correctly signed request of one method; mutations are chosen so that whether the result must
 * be refused is known by construction (`mustFail`): a wrong JSON type or a bad encoding of a field
 * the method knows, a missing required field, a changed value that the signature covers, params
 * or method of the wrong shape. Mutations that may leave the request valid (unknown keys, `null`
 * or random values in optional fields) are marked `mustFail: false`: the node may accept them.
 */
import {CTX} from "../../../src/crypto/contexts.js";
import {ed25519FromSeed, ed25519Account, pqAccount, sessionAccount, sessionHash, type PqAccount, type SessionAccount} from "../../utils/keys.js";
import {HOSTILE_KEYS, ONE_MB, Prng, Raw, clone, deepArray, deepObject, hostileValue, serialize, setOwn} from "../../utils/hostile.js";

/** How a field is typed and encoded (drives the wrong-type, bad-encoding and other-value pools). */
type Kind =
  | "hex"
  | "edpk"
  | "sig"
  | "sig07"
  | "dsapk"
  | "kempk"
  | "b64"
  | "lasthash"
  | "hashes"
  | "tokens"
  | "ts"
  | "sint"
  | "suint"
  | "int"
  | "tsArr"
  | "ns"
  | "nsAll"
  | "bool";

export interface Base {
  label: string;
  method: string;
  params: Record<string, unknown>;
  kinds: Record<string, Kind>;
  /** Removing (or nulling) one of these must be refused. */
  required: string[];
  /** Covered by the signature: any other well-formed value must be refused. */
  signed: string[];
  /** Fields the method knows but the base leaves out (set to random values: may succeed). */
  absent: string[];
  /**
   * A signed store to a non-public namespace: with `namespace` dropped it becomes a store to the
   * public namespace 0, where the auth fields are not checked (as in Session), so only failures
   * of the other fields still must fail.
   */
  auth?: string[];
}

export interface RpcCase {
  label: string;
  /** JSON text of the method value (normally a string literal). */
  methodText: string;
  /** JSON text of the params value. */
  paramsText: string;
  mustFail: boolean;
  /** Wrapped in batch/sequence/ifelse: where the mutated request's own status is. */
  wrap: "none" | "batch" | "sequence" | "ifelse";
  /** The params were replaced by a non-object / the method by a non-method. */
  paramsReplaced?: boolean;
  methodBroken?: boolean;
}

export interface Accounts {
  s05: SessionAccount;
  g03: SessionAccount;
  pq07: PqAccount;
}

export function makeAccounts(rng: Prng): Accounts {
  return {
    s05: sessionAccount(ed25519FromSeed(rng.bytes(32))),
    g03: ed25519Account("03", ed25519FromSeed(rng.bytes(32))),
    pq07: pqAccount(rng.bytes(32), rng.bytes(64)),
  };
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The message every signed-store base stores (so a base that succeeds changes nothing new). */
export const SEED_TEXTS = ["hostile seed one", "hostile seed two", "hostile seed three"];

export function seedHashes(a: Accounts): string[] {
  return SEED_TEXTS.map((t) => sessionHash(a.s05.hex, 1, Buffer.from(t)));
}

/** Valid signed stores of the seed messages (namespace 1 of s05). */
export function seedStores(a: Accounts, now: number): Array<Record<string, unknown>> {
  return SEED_TEXTS.map((t) => ({
    pubkey: a.s05.hex,
    pubkey_ed25519: hex(a.s05.ed.pub),
    namespace: 1,
    timestamp: now,
    sig_timestamp: now,
    ttl: 3_600_000,
    data: Buffer.from(t).toString("base64"),
    signature: b64(a.s05.ed.sign(`store1${now}`)),
  }));
}

/** One valid request per method (and per auth style), signed at `now`. */
export function baseRequests(a: Accounts, now: number, token: Buffer): Base[] {
  const {s05, g03, pq07} = a;
  const [h1, h2, h3] = seedHashes(a) as [string, string, string];
  const ed = hex(s05.ed.pub);
  const sign05 = (msg: string | Buffer): string => b64(s05.ed.sign(msg));
  const auth05 = {pubkey: s05.hex, pubkey_ed25519: ed};
  const kinds05 = {pubkey: "hex", pubkey_ed25519: "edpk", signature: "sig"} as const;
  const req05 = ["pubkey", "pubkey_ed25519", "signature"];
  const auth07 = {pubkey: pq07.hex, pubkey_mldsa: b64(pq07.dsa.publicKey), pubkey_mlkem: hex(pq07.kem.publicKey)};
  const kinds07 = {pubkey: "hex", pubkey_mldsa: "dsapk", pubkey_mlkem: "kempk", signature: "sig07"} as const;
  const req07 = ["pubkey", "pubkey_mldsa", "pubkey_mlkem", "signature"];
  const sign07 = (msg: string): string => b64(pq07.sign(msg, CTX.REQUEST_AUTH));
  const authAbsent = ["subaccount", "subaccount_sig"];
  const tokenHex = hex(token);
  const expiry = now + 1_800_000;
  return [
    {
      label: "store 05 signed ns 1",
      method: "store",
      params: {...auth05, namespace: 1, timestamp: now, sig_timestamp: now, ttl: 3_600_000, data: Buffer.from(SEED_TEXTS[0]!).toString("base64"), signature: sign05(`store1${now}`)},
      kinds: {...kinds05, namespace: "ns", timestamp: "sint", sig_timestamp: "ts", ttl: "suint", data: "b64"},
      required: [...req05, "timestamp", "data"],
      signed: [...req05, "sig_timestamp", "namespace"],
      absent: ["expiry", "pubKey", ...authAbsent],
      auth: [...req05, "sig_timestamp", "namespace", ...authAbsent],
    },
    {
      label: "store 07 signed ns 1",
      method: "store",
      params: {...auth07, namespace: 1, timestamp: now, ttl: 3_600_000, data: Buffer.from("pq seed").toString("base64"), signature: sign07(`store1${now}`)},
      kinds: {...kinds07, namespace: "ns", timestamp: "sint", ttl: "suint", data: "b64"},
      required: [...req07, "timestamp", "data"],
      signed: [...req07, "timestamp", "namespace"],
      absent: ["expiry", "sig_timestamp", "pubkey_ed25519", ...authAbsent],
      auth: [...req07, "namespace", ...authAbsent],
    },
    {
      label: "store to a public inbox, unsigned",
      method: "store",
      params: {pubkey: s05.hex, timestamp: now, ttl: 3_600_000, data: Buffer.from("public seed").toString("base64")},
      kinds: {pubkey: "hex", timestamp: "sint", ttl: "suint", data: "b64"},
      required: ["pubkey", "timestamp", "data"],
      signed: [],
      absent: ["namespace", "expiry", "sig_timestamp", "pubkey_ed25519", "signature"],
    },
    {
      label: "retrieve 05 ns 1",
      method: "retrieve",
      params: {...auth05, namespace: 1, timestamp: now, last_hash: "", max_size: -2, signature: sign05(`retrieve1${now}`)},
      kinds: {...kinds05, namespace: "ns", timestamp: "ts", last_hash: "lasthash", max_size: "int"},
      required: [...req05, "timestamp", "namespace"],
      signed: [...req05, "timestamp", "namespace"],
      absent: ["lastHash", "max_count", "pubKey", ...authAbsent],
    },
    {
      label: "retrieve 07 ns 1",
      method: "retrieve",
      params: {...auth07, namespace: 1, timestamp: now, signature: sign07(`retrieve1${now}`)},
      kinds: {...kinds07, namespace: "ns", timestamp: "ts"},
      required: [...req07, "timestamp", "namespace"],
      signed: [...req07, "timestamp", "namespace"],
      absent: ["last_hash", "max_count", "max_size"],
    },
    {
      label: "retrieve without auth (ns -10)",
      method: "retrieve",
      params: {pubkey: g03.hex, namespace: -10, max_count: 5},
      kinds: {pubkey: "hex", namespace: "ns", max_count: "int"},
      required: ["pubkey", "namespace"],
      signed: [],
      absent: ["last_hash", "max_size"],
    },
    {
      label: "delete",
      method: "delete",
      params: {...auth05, messages: [h1], signature: sign05(`delete${h1}`)},
      kinds: {...kinds05, messages: "hashes"},
      required: [...req05, "messages"],
      signed: [...req05, "messages"],
      absent: ["required", ...authAbsent],
    },
    {
      label: "delete_all ns 1",
      method: "delete_all",
      params: {...auth05, namespace: 1, timestamp: now, signature: sign05(`delete_all1${now}`)},
      kinds: {...kinds05, namespace: "nsAll", timestamp: "ts"},
      required: [...req05, "namespace", "timestamp"],
      signed: [...req05, "namespace", "timestamp"],
      absent: authAbsent,
    },
    {
      label: "delete_before ns all",
      method: "delete_before",
      params: {...auth05, namespace: "all", before: now - 3_600_000, signature: sign05(`delete_beforeall${now - 3_600_000}`)},
      kinds: {...kinds05, namespace: "nsAll", before: "ts"},
      required: [...req05, "namespace", "before"],
      signed: [...req05, "namespace", "before"],
      absent: authAbsent,
    },
    {
      label: "expire shorten",
      method: "expire",
      params: {...auth05, messages: [h2], expiry, shorten: true, signature: sign05(`expireshorten${expiry}${h2}`)},
      kinds: {...kinds05, messages: "hashes", expiry: "tsArr", shorten: "bool"},
      required: [...req05, "messages", "expiry", "shorten"],
      signed: [...req05, "messages", "expiry", "shorten"],
      absent: ["extend", ...authAbsent],
    },
    {
      label: "expire_all ns 1",
      method: "expire_all",
      params: {...auth05, namespace: 1, expiry, signature: sign05(`expire_all1${expiry}`)},
      kinds: {...kinds05, namespace: "nsAll", expiry: "ts"},
      required: [...req05, "namespace", "expiry"],
      signed: [...req05, "namespace", "expiry"],
      absent: authAbsent,
    },
    {
      label: "get_expiries",
      method: "get_expiries",
      params: {...auth05, messages: [h1, h3], timestamp: now, signature: sign05(`get_expiries${now}${h1}${h3}`)},
      kinds: {...kinds05, messages: "hashes", timestamp: "ts"},
      required: [...req05, "messages", "timestamp"],
      signed: [...req05, "messages", "timestamp"],
      absent: authAbsent,
    },
    {label: "get_swarm", method: "get_swarm", params: {pubkey: s05.hex}, kinds: {pubkey: "hex"}, required: ["pubkey"], signed: [], absent: ["pubKey"]},
    {label: "info", method: "info", params: {}, kinds: {}, required: [], signed: [], absent: []},
    {
      label: "revoke_subaccount 03",
      method: "revoke_subaccount",
      params: {pubkey: g03.hex, revoke: [tokenHex], timestamp: now, signature: b64(g03.ed.sign(Buffer.concat([Buffer.from(`revoke_subaccount${now}`), token])))},
      kinds: {pubkey: "hex", revoke: "tokens", timestamp: "ts", signature: "sig"},
      required: ["pubkey", "revoke", "timestamp", "signature"],
      signed: ["pubkey", "revoke", "timestamp", "signature"],
      absent: ["pubkey_mldsa", "pubkey_mlkem"],
    },
    {
      label: "unrevoke_subaccount 03",
      method: "unrevoke_subaccount",
      params: {pubkey: g03.hex, unrevoke: [tokenHex], timestamp: now, signature: b64(g03.ed.sign(Buffer.concat([Buffer.from(`unrevoke_subaccount${now}`), token])))},
      kinds: {pubkey: "hex", unrevoke: "tokens", timestamp: "ts", signature: "sig"},
      required: ["pubkey", "unrevoke", "timestamp", "signature"],
      signed: ["pubkey", "unrevoke", "timestamp", "signature"],
      absent: ["pubkey_mldsa", "pubkey_mlkem"],
    },
  ];
}

const NON_STRING: unknown[] = [0, -1, 1.5, true, false, [], ["x"], {}, {a: 1}, new Raw("-0"), new Raw("1e999")];
const NON_INT: unknown[] = ["x", "", "1e3", "0x10", " 1", "NaN", "1.0", true, false, [], [1], {}, 1.5, -0.5, 2 ** 53, -(2 ** 53), 1e308, new Raw("1e999"), new Raw("-1e999"), new Raw("1E400")];
const NON_BOOL: unknown[] = [0, 1, "true", "", [], {}, [true], new Raw("1e999")];
const NON_STRING_ARRAY: unknown[] = [0, true, {}, [1], [null], [["x"]], [{}], 1.5, [true]];

function wrongTypes(kind: Kind): unknown[] {
  switch (kind) {
    case "hashes":
    case "tokens":
      return NON_STRING_ARRAY;
    case "ts":
      return [...NON_INT, -1, 0, 12_345, 999_999_999];
    case "sint":
      return NON_INT;
    case "suint":
      return [...NON_INT, -1, "-1"];
    case "int":
      return NON_INT;
    case "tsArr":
      return ["x", true, {}, [1.5], ["1"], [null], [-1], 1.5, -1, [true], [], [[1]]];
    case "ns":
      return ["1", "all", 1.5, 40_000, -40_000, 32_768, -32_769, true, [], {}, 2 ** 53];
    case "nsAll":
      return ["ALL", "al", "", "1", 1.5, 40_000, true, [], {}, [1]];
    case "bool":
      return NON_BOOL;
    default:
      return NON_STRING;
  }
}

function badEncodings(kind: Kind, rng: Prng, base: unknown): unknown[] {
  const huge = (): string => "A".repeat(ONE_MB);
  switch (kind) {
    case "hex":
      return ["", "05", `05${"zz".repeat(32)}`, `05${"ab".repeat(31)}`, `05${"ab".repeat(33)}`, "é".repeat(33), " ".repeat(66), `0x${"ab".repeat(32)}`, huge()];
    case "edpk":
      return ["", "zz".repeat(32), "ab".repeat(31), "ab".repeat(33), "é".repeat(32), hex(rng.bytes(33)), huge()];
    case "sig":
      return ["", "A", "!".repeat(86), b64(rng.bytes(63)), b64(rng.bytes(65)), `-${b64(rng.bytes(64)).slice(1)}`, "=".repeat(88), hex(rng.bytes(64)), huge()];
    case "sig07":
      return ["", b64(rng.bytes(3308)), b64(rng.bytes(3310)), hex(rng.bytes(3309)), "!".repeat(4412), huge()];
    case "dsapk":
      return ["", b64(rng.bytes(1951)), hex(rng.bytes(1953)), "!".repeat(2604), b64(rng.bytes(1184))];
    case "kempk":
      return ["", b64(rng.bytes(1183)), hex(rng.bytes(1185)), "!".repeat(1580), hex(rng.bytes(1952))];
    case "b64":
      return ["!", "a", "ab=c", "a===", "A".repeat(102_404), "aGVs bG8", "é", "aGVsbG8=\n"];
    case "lasthash":
      return ["x", "A".repeat(42), "A".repeat(44), "-".repeat(43), "é".repeat(43)];
    case "hashes": {
      const h = (base as string[])[0] ?? "A".repeat(43);
      return [[""], [h.slice(1)], [`${h}A`], ["-".repeat(43)], [`${h.slice(0, 42)}=`], ["é".repeat(43)], [], [h, "x"]];
    }
    case "tokens":
      return [["x"], [hex(rng.bytes(35))], [hex(rng.bytes(37))], [b64(rng.bytes(35))], ["zz".repeat(36)], []];
    default:
      return [];
  }
}

function otherValue(kind: Kind, rng: Prng, base: unknown): unknown {
  switch (kind) {
    case "hex":
      return `${(base as string).slice(0, 2)}${hex(rng.bytes(32))}`;
    case "edpk":
      return hex(rng.bytes(32));
    case "sig":
      return b64(rng.bytes(64));
    case "sig07":
      return b64(rng.bytes(3309));
    case "dsapk":
      return b64(rng.bytes(1952));
    case "kempk":
      return hex(rng.bytes(1184));
    case "ts":
    case "sint":
      return (base as number) + (rng.chance(0.5) ? 1 : -1) * (1 + rng.int(5_000));
    case "tsArr":
      return [(base as number) + 1 + rng.int(1_000)];
    case "hashes":
      return rng.chance(0.5) ? [...(base as string[]), b64(rng.bytes(32)).slice(0, 43)] : [b64(rng.bytes(32)).slice(0, 43)];
    case "tokens":
      return rng.chance(0.3) ? Array.from({length: 51}, () => hex(rng.bytes(36))) : [hex(rng.bytes(36))];
    case "bool":
      return !(base as boolean);
    case "ns":
    case "nsAll": {
      if (kind === "nsAll" && base !== "all" && rng.chance(0.3)) return "all";
      // Not a multiple of 10: a store there would need no signature at all.
      for (;;) {
        const ns = rng.int(65_536) - 32_768;
        if (ns !== base && ns % 10 !== 0) return ns;
      }
    }
    default:
      throw new Error(`no other value for ${kind}`);
  }
}

/** `{if, then}` nested `depth` times around an info request (Session allows nested ifelse). */
export function deepIfElse(depth: number): string {
  return `{"method":"ifelse","params":${'{"if":{"hf_at_least":[1]},"then":{"method":"ifelse","params":'.repeat(depth)}{"if":{"v_at_least":[1]},"then":{"method":"info","params":{}}}${"}}".repeat(depth)}}`;
}

/** One mutated request from `base`. */
export function mutate(rng: Prng, base: Base): RpcCase {
  const params = clone(base.params);
  const known = Object.keys(base.kinds);
  const touched = new Set<string>();
  const labels: string[] = [];
  /** Why the request must fail: the field and how (null field: the params or method as a whole). */
  const failures: Array<{field: string | null; how: "required" | "type" | "encoding" | "signed"}> = [];
  let methodText = JSON.stringify(base.method);
  let paramsText: string | null = null;
  let paramsReplaced = false;
  let methodBroken = false;
  const free = (list: string[]): string[] => list.filter((f) => !touched.has(f));
  const ops = 1 + (rng.chance(0.3) ? rng.int(3) : 0);
  for (let i = 0; i < ops; i++) {
    const op = rng.int(10);
    if (op <= 1 && free(Object.keys(params)).length > 0) {
      const f = rng.pick(free(Object.keys(params)));
      touched.add(f);
      if (rng.chance(0.5)) delete params[f];
      else params[f] = null;
      labels.push(`drop ${f}`);
      if (base.required.includes(f)) failures.push({field: f, how: "required"});
    } else if (op === 2 && free(known).length > 0) {
      const f = rng.pick(free(known));
      touched.add(f);
      params[f] = clone(rng.pick(wrongTypes(base.kinds[f] as Kind)));
      labels.push(`wrong type ${f}`);
      failures.push({field: f, how: "type"});
    } else if (op === 3 && free(known).some((f) => badEncodings(base.kinds[f] as Kind, rng, params[f]).length > 0)) {
      const f = rng.pick(free(known).filter((k) => badEncodings(base.kinds[k] as Kind, rng, params[k]).length > 0));
      touched.add(f);
      params[f] = rng.pick(badEncodings(base.kinds[f] as Kind, rng, params[f]));
      labels.push(`bad encoding ${f}`);
      failures.push({field: f, how: "encoding"});
    } else if (op === 4 && free(base.signed).length > 0) {
      const f = rng.pick(free(base.signed));
      touched.add(f);
      params[f] = otherValue(base.kinds[f] as Kind, rng, params[f]);
      labels.push(`re-signed ${f}`);
      failures.push({field: f, how: "signed"});
    } else if (op <= 6) {
      const key = rng.chance(0.6) ? rng.pick(HOSTILE_KEYS) : rng.ascii(1 + rng.int(12));
      if (known.includes(key) || base.absent.includes(key)) continue;
      setOwn(params, key, hostileValue(rng));
      labels.push(`extra ${JSON.stringify(key)}`);
    } else if (op === 7 && free(base.absent).length > 0) {
      const f = rng.pick(free(base.absent));
      touched.add(f);
      params[f] = hostileValue(rng, false);
      labels.push(`set ${f}`);
    } else if (op === 8 && rng.chance(0.3)) {
      paramsText = serialize(rng.pick<unknown>([null, [], [params], "params", 1, true, deepArray(1000)]));
      labels.push("params not an object");
      failures.push({field: null, how: "type"});
      paramsReplaced = true;
    } else if (op === 9 && rng.chance(0.3)) {
      methodText = serialize(rng.pick<unknown>([null, 1, [base.method], {}, "", "STORE", `${base.method} `, "constructor", "__proto__", "hasOwnProperty", "toString", "monitor", "oxend_request", "x".repeat(ONE_MB)]));
      labels.push("bad method");
      failures.push({field: null, how: "type"});
      methodBroken = true;
    }
  }
  const auth = base.auth;
  // Without its namespace, or with another public one (ns % 10 == 0), a signed store goes to a
  // public inbox: auth fields are then neither required nor verified (only their JSON types are).
  const ns = params.namespace;
  const publicStore = auth !== undefined && (ns == null || (typeof ns === "number" && Number.isInteger(ns) && ns % 10 === 0));
  const counts = (x: (typeof failures)[number]): boolean =>
    !publicStore || x.field === null || x.how === "type" || (x.how !== "signed" && !auth.includes(x.field));
  const mustFail = failures.some(counts);
  const body = paramsText ?? serialize(params);
  const label = `${base.label}: ${labels.join(", ") || "unchanged"}`;
  return {label, methodText, paramsText: body, mustFail, wrap: "none", paramsReplaced, methodBroken};
}

/** Puts a mutated request inside a batch, sequence or ifelse (the outer request is valid). */
export function wrap(rng: Prng, c: RpcCase, base: Base): RpcCase {
  const kind = rng.pick(["batch", "sequence", "ifelse"] as const);
  const sub = `{"method":${c.methodText},"params":${c.paramsText}}`;
  if (kind === "ifelse") {
    // A branch whose params are not an object runs with {} (Session): only info accepts that.
    const mustFail = c.methodBroken === true || (c.paramsReplaced === true ? base.required.length > 0 : c.mustFail);
    return {...c, label: `ifelse[${c.label}]`, methodText: '"ifelse"', paramsText: `{"if":{"hf_at_least":[19]},"then":${sub}}`, mustFail, wrap: kind};
  }
  // The mutated request goes first, so a sequence runs it whatever its outcome.
  return {...c, label: `${kind}[${c.label}]`, methodText: JSON.stringify(kind), paramsText: `{"requests":[${sub},{"method":"info","params":{}}]}`, wrap: kind};
}

/** Meta requests broken in their own structure. */
export function metaCase(rng: Prng): RpcCase {
  const info = '{"method":"info","params":{}}';
  const cases: Array<[string, string, boolean]> = [
    ["batch", '{"requests":[]}', true],
    ["batch", `{"requests":[${Array.from({length: 21}, () => info).join(",")}]}`, true],
    ["batch", '{"requests":{}}', true],
    ["batch", '{"requests":"info"}', true],
    ["batch", "{}", true],
    ["batch", `{"requests":[1,${info}]}`, true],
    ["batch", `{"requests":[{"method":"batch","params":{"requests":[${info}]}}]}`, true],
    ["sequence", `{"requests":[{"method":"ifelse","params":{"if":{"hf_at_least":[1]},"then":${info}}}]}`, true],
    ["batch", `{"requests":[{"method":"nope","params":{}}]}`, true],
    ["batch", `{"requests":[{"method":"info"}]}`, true],
    ["sequence", `{"requests":[{"params":{}}]}`, true],
    ["ifelse", `{"then":${info}}`, true],
    ["ifelse", '{"if":{"hf_at_least":[1]}}', true],
    ["ifelse", `{"if":{},"then":${info}}`, true],
    ["ifelse", `{"if":{"hf_at_least":"19"},"then":${info}}`, true],
    ["ifelse", `{"if":{"height_before":1.5},"then":${info}}`, true],
    ["ifelse", `{"if":{"v_before":[1,"x"]},"then":${info}}`, true],
    ["ifelse", `{"if":[],"then":${info}}`, true],
    ["ifelse", '{"if":{"hf_at_least":[1]},"then":1}', true],
    ["ifelse", '{"if":{"hf_at_least":[1]},"then":{"method":"nope","params":{}}}', true],
    ["ifelse", '{"if":{"hf_at_least":[1]},"then":{"method":1,"params":{}}}', true],
    ["ifelse", `{"if":{"hf_at_least":[${"9".repeat(400)}]},"then":${info}}`, true],
    ["ifelse", `{"if":{"hf_at_least":${deepArray(5000).text}},"then":${info}}`, true],
    ["ifelse", `{"if":{"hf_before":[1]},"else":${info},"then":${deepObject(20_000).text}}`, true],
  ];
  const [method, paramsText, mustFail] = rng.pick(cases);
  return {label: `meta ${method} ${paramsText.slice(0, 60)}`, methodText: JSON.stringify(method), paramsText, mustFail, wrap: "none"};
}

/** An `ifelse` nested `depth` deep: valid if small, but never worth a 5xx. */
export function deepIfElseCase(depth: number): RpcCase {
  const text = deepIfElse(depth);
  const inner = text.slice('{"method":"ifelse","params":'.length, -1);
  return {label: `ifelse nested ${depth} deep`, methodText: '"ifelse"', paramsText: inner, mustFail: false, wrap: "none"};
}
