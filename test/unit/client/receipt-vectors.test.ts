import {beforeAll, describe, expect, it} from "vitest";
import vectors from "../../fixtures/signing/receipt-vectors.json" with {type: "json"};
import {
  Ed25519Account,
  deleteAllRequest,
  deleteBeforeRequest,
  deleteRequest,
  expireAllRequest,
  expireRequest,
  storeRequest,
  tokensRequest,
  verifyReceipt,
  type PreparedRequest,
} from "../../../src/client/index.js";
import {testPq} from "../../utils/rpc-harness.js";

/**
 * The client against the receipt vectors computed independently in Python from PROTOCOL Client
 * RPC §3 (test/fixtures/signing/receipt-vectors.json): it rebuilds each request byte for byte (the
 * account is the Ed25519 seed 00…1f, deterministic), rebuilds each receipt from the request and
 * the entry, and verifies the Python-signed batch.
 */
type Params = Record<string, unknown>;
type Step = {name: string; method: string; params: Params; receipt?: string; receipt_hex?: string; entry?: Record<string, unknown>};
const me = new Ed25519Account(Uint8Array.from({length: 32}, (_, i) => i));
const token = (s: string): Buffer => Buffer.from(s, /^[0-9a-f]+$/.test(s) ? "hex" : "base64");

function build(step: Step): PreparedRequest {
  const p = step.params;
  const ns = (p.namespace ?? 0) as number | "all";
  const messages = p.messages as string[];
  const mode = p.shorten === true ? "shorten" : p.extend === true ? "extend" : undefined;
  switch (step.method) {
    case "store":
      return storeRequest({to: me.id, data: token(p.data as string), namespace: ns as number, ttlMs: p.ttl as number}, p.timestamp as number, me);
    case "expire_all":
      return expireAllRequest(me, ns, p.expiry as number);
    case "expire":
      return expireRequest(me, {messages, expiry: p.expiry as number | number[], mode});
    case "delete_before":
      return deleteBeforeRequest(me, ns, p.before as number);
    case "delete_all":
      return deleteAllRequest(me, ns, p.timestamp as number);
    case "delete":
      return deleteRequest(me, messages);
    default:
      return tokensRequest("revoke_subaccount", me, (p.revoke as string[]).map(token), p.timestamp as number);
  }
}

/** A store entry as the node sends it, from the fields its receipt lists. */
function storeEntry(receipt: string, withFee: boolean): Record<string, unknown> {
  const [hash, expiry, status, ...fee] = receipt.split(" ");
  const [unit, base_fee, multiplier, storage_fee, session_create_fee, total] = fee;
  return {
    hash,
    expiry: Number(expiry),
    ...(status === "already" ? {already: true} : {}),
    ...(withFee ? {fee: {unit, base_fee, multiplier: Number(multiplier), storage_fee, session_create_fee, total}} : {}),
  };
}

beforeAll(() => testPq()); // also loads BLAKE2b for message hashes

/** The params with subaccount tokens decoded (the client sends base64, the vectors hex: both are accepted). */
const normalized = (p: Params): Params => ("revoke" in p ? {...p, revoke: (p.revoke as string[]).map((t) => token(t).toString("hex"))} : p);

describe("receipt vectors (Python, PROTOCOL Client RPC §3)", () => {
  it("the account is the vectors' account", () => {
    expect(me.id).toBe(vectors.account);
  });

  const steps = vectors.scenarios.flatMap((s) => (s.steps as Step[]).map((step) => [step.name, step, s.fees] as const));
  it.each(steps)("%s: same request, same receipt", (_name, step, fees) => {
    const req = build(step);
    expect(normalized(req.params)).toEqual(normalized(step.params));
    const expected = step.receipt_hex !== undefined ? Buffer.from(step.receipt_hex, "hex") : Buffer.from(step.receipt!);
    const entry = step.method === "store" ? storeEntry(step.receipt!, fees) : (step.entry ?? {});
    expect(Buffer.from(req.receipt!(entry)!).toString("latin1")).toBe(expected.toString("latin1"));
  });

  it("a batch signed in Python verifies, leaf by leaf; another receipt or node does not", async () => {
    const pq = await testPq();
    const key = {nodeId: vectors.batch.nodeId, mlDsaPublicKey: Buffer.from(vectors.batch.pubkeyMldsa, "hex")};
    for (const [i, e] of vectors.batch.entries.entries()) {
      expect(verifyReceipt(pq, key, Buffer.from(e.receipt), e), `leaf ${i}`).toBeNull();
      expect(verifyReceipt(pq, key, Buffer.from(`${e.receipt}x`), e), `leaf ${i}`).toBe("signature does not verify");
      expect(verifyReceipt(pq, {...key, nodeId: "00".repeat(32)}, Buffer.from(e.receipt), e), `leaf ${i}`).toBe("signature does not verify");
    }
  });
});
