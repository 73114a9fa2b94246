/** Garbage never escapes as an untyped error: decoders throw PROOF_ERROR_MALFORMED, judge returns a verdict. */
import {readFileSync} from "node:fs";
import {beforeAll, describe, expect, it} from "vitest";
import {
  answerFromJson,
  challengeFromJson,
  evidenceFromJson,
  judge,
  keysFromJson,
  leafHash,
  proofFromJson,
  rootFromPath,
  verifyEvidence,
  encodeLeafEntry,
  decodeMessageHash,
  challengeFromJson as decodeChallenge,
} from "../../../src/proofs/index.js";
import type {PqBackend} from "../../../src/crypto/interface.js";
import {testPq} from "../../utils/rpc-harness.js";

const V = JSON.parse(readFileSync(new URL("../../fixtures/proofs/vectors.json", import.meta.url), "utf8"));

const GARBAGE: unknown[] = [null, undefined, true, 0, -1, 1.5, 2 ** 64, "", "x", "00", [], [1], {}, {a: 1}, "A".repeat(5000), NaN];

let pq: PqBackend;
beforeAll(async () => {
  pq = await testPq();
});

/** Every variant of `value` with one field (at any depth) replaced by each garbage value, or removed. */
function* mutations(value: unknown, depth = 0): Generator<unknown> {
  if (typeof value !== "object" || value === null || depth > 3) return;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, child] of entries.slice(0, 14)) {
    const clone = (v: unknown): unknown => (Array.isArray(value) ? value.map((x: unknown, i) => (String(i) === key ? v : x)) : {...value, [key]: v});
    for (const g of GARBAGE) yield clone(g);
    if (!Array.isArray(value)) {
      const {[key]: _removed, ...rest} = value as Record<string, unknown>;
      yield rest;
    }
    for (const inner of mutations(child, depth + 1)) yield clone(inner);
  }
  if (!Array.isArray(value)) yield {...value, extra: 1};
}

function expectTyped(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    expect((err as {code?: string}).code, `${what}: ${String(err)}`).toBe("PROOF_ERROR_MALFORMED");
  }
}

describe("decoders on garbage", () => {
  it("StorageProof, challenge, answer, keys and evidence", () => {
    const cases: Array<[string, unknown, (v: unknown) => unknown]> = [
      ["proof", V.proof.json, (v) => proofFromJson(v)],
      ["challenge", V.challenge.json, (v) => challengeFromJson(v)],
      ["answer", V.answer.json, (v) => answerFromJson(v)],
      ["keys", V.parties.target.keys, (v) => keysFromJson(v, "keys")],
      ["evidence", V.evidence, (v) => evidenceFromJson(v)],
    ];
    let n = 0;
    for (const [name, valid, decode] of cases) {
      for (const g of GARBAGE) expectTyped(() => decode(g), `${name} ← ${String(g)}`);
      for (const m of mutations(valid)) {
        expectTyped(() => decode(m), `${name} mutation ${n}`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(500);
    expectTyped(() => evidenceFromJson("{not json"), "evidence text");
  });

  it("judge returns a verdict for every mutated answer and never passes a changed one", () => {
    const e = evidenceFromJson(V.evidence);
    let n = 0;
    const original = JSON.stringify(V.evidence.answer);
    for (const m of mutations(V.evidence.answer)) {
      if (JSON.stringify(m) === original) continue; // e.g. namespace 0 replaced by 0
      const verdict = judge({...e, answer: m}, pq);
      expect(verdict.outcome, `mutation ${n}`).not.toBe("pass");
      n++;
      if (n > 400) break; // each judged answer costs an ML-DSA verification
    }
    for (const g of GARBAGE) expect(verifyEvidence({...e, answer: g}, pq).verdict.outcome).not.toBe("pass");
  });

  it("rootFromPath rejects wrong shapes without throwing", () => {
    const leaf = leafHash(Buffer.from("x"));
    const node = Buffer.alloc(32, 1);
    expect(rootFromPath(leaf, 0, 1, [])?.equals(leaf)).toBe(true);
    expect(rootFromPath(leaf, 0, 1, [node])).toBeNull();
    expect(rootFromPath(leaf, 1, 1, [])).toBeNull();
    expect(rootFromPath(leaf, -1, 4, [node, node])).toBeNull();
    expect(rootFromPath(leaf, 0, 4, [node])).toBeNull();
    expect(rootFromPath(leaf, 0, 4, [node, Buffer.alloc(31)])).toBeNull();
    expect(rootFromPath(leaf, 0, Number.NaN, [])).toBeNull();
    expect(rootFromPath(leaf, 2 ** 60, 2 ** 61, [])).toBeNull();
  });

  it("leaf encoding refuses out-of-range fields with a typed error", () => {
    const good = {messageHash: V.commitment.messages[0].hash, account: "05" + "00".repeat(32), namespace: 0, expiry: 1, size: 0, dataDigest: Buffer.alloc(32)};
    expect(encodeLeafEntry(good).length).toBe(137);
    for (const bad of [{namespace: 40_000}, {expiry: -1}, {size: 2 ** 32}, {account: "05zz"}, {messageHash: "abc"}, {dataDigest: Buffer.alloc(3)}]) {
      expectTyped(() => encodeLeafEntry({...good, ...bad}), JSON.stringify(bad));
      expect(() => encodeLeafEntry({...good, ...bad})).toThrow();
    }
    expect(decodeMessageHash(V.commitment.messages[0].hash.slice(0, -1) + "B")).toBeNull(); // non-zero tail bits
    expect(decodeChallenge(V.challenge.json).messageHash).toBe(V.challenge.json.messageHash);
  });
});
