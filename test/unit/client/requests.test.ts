import {afterEach, beforeEach, describe, expect, it} from "vitest";
import vectors from "../../fixtures/rpc/request-vectors.json" with {type: "json"};
import {
  Ed25519Account,
  Ed25519Key,
  PqAccount,
  SUBACCOUNT_FLAGS,
  SubaccountAccount,
  deleteAllRequest,
  deleteBeforeRequest,
  deleteRequest,
  expireAllRequest,
  expireRequest,
  getExpiriesRequest,
  retrieveRequest,
  storeRequest,
  swarmOutcome,
  tokensRequest,
  type ClientAccount,
  type PreparedRequest,
} from "../../../src/client/index.js";
import {rpcHarness, testPq, type RpcHarness} from "../../utils/rpc-harness.js";

/**
 * The client's requests against the node's own verifier (src/rpc, through the RpcHandler) and
 * against the independent Python vectors (test/fixtures/rpc/request-vectors.json): Ed25519 is
 * deterministic, so every `05` request must carry the vector's exact signature; ML-DSA is hedged,
 * so `07` requests must carry the vector's keys and be accepted by the node.
 */
type Params = Record<string, unknown>;
const NOW = vectors.now;
const seed05 = Uint8Array.from({length: 32}, (_, i) => i);
const bytes = (b: number, n: number): Uint8Array => new Uint8Array(n).fill(b);
const token = (s: string): Buffer => Buffer.from(s, /^[0-9a-f]+$/.test(s) ? "hex" : "base64");

let h: RpcHarness;
beforeEach(async () => {
  h = await rpcHarness({nowMs: NOW});
});
afterEach(() => h.close());

async function accountFor(p: Params): Promise<ClientAccount> {
  const pq = await testPq();
  if (p.pubkey === vectors.accounts["05"]) return new Ed25519Account(seed05);
  const owner = new PqAccount({mlDsa: bytes(1, 32), mlKem: bytes(2, 64)}, pq);
  if (typeof p.subaccount !== "string") return owner;
  // The vector's token and its ML-DSA token signature (hedged: not reproducible), the subkey's seed.
  const fields = {pubkey: owner.id, ...owner.ownerFields};
  return new SubaccountAccount(token(p.subaccount), token(p.subaccount_sig as string), new Ed25519Key(bytes(9, 32)), fields);
}

/** The client's builder call for a vector case, from the case's own arguments. */
function build(method: string, p: Params, a: ClientAccount): PreparedRequest {
  const ns = (p.namespace ?? 0) as number | "all";
  const messages = (typeof p.messages === "string" ? [p.messages] : p.messages) as string[];
  switch (method) {
    case "store":
      return storeRequest({to: p.pubkey as string, data: token(p.data as string), namespace: ns as number, ttlMs: p.ttl as number}, NOW, a);
    case "retrieve":
      return retrieveRequest(a, {namespace: ns as number}, NOW);
    case "delete":
      return deleteRequest(a, messages);
    case "delete_all":
      return deleteAllRequest(a, ns, p.timestamp as number);
    case "delete_before":
      return deleteBeforeRequest(a, ns, p.before as number);
    case "expire_all":
      return expireAllRequest(a, ns, p.expiry as number);
    case "expire":
      return expireRequest(a, {messages, expiry: p.expiry as number | number[], mode: p.shorten === true ? "shorten" : p.extend === true ? "extend" : undefined});
    case "get_expiries":
      return getExpiriesRequest(a, messages, p.timestamp as number);
    default: {
      const list = (p.revoke ?? p.unrevoke) as string | string[];
      return tokensRequest(method as "revoke_subaccount", a, (Array.isArray(list) ? list : [list]).map(token), p.timestamp as number);
    }
  }
}

const AUTH_KEYS = ["pubkey", "pubkey_ed25519", "subaccount", "subaccount_sig"] as const;

describe("client requests match the vectors and pass the node's verifier", () => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const p = c.params as Params;
    const req = build(c.method, p, await accountFor(p));
    for (const k of AUTH_KEYS) if (p[k] !== undefined) expect(token(req.params[k] as string), k).toEqual(token(p[k] as string));
    if (p.pubkey_mldsa !== undefined) {
      expect(token(req.params.pubkey_mldsa as string)).toEqual(token(p.pubkey_mldsa as string));
      expect(token(req.params.pubkey_mlkem as string)).toEqual(token(p.pubkey_mlkem as string));
    }
    // Ed25519 is deterministic: the same signature means the same signed bytes as the vector's.
    const ed = p.pubkey === vectors.accounts["05"] || p.subaccount !== undefined;
    if (ed) expect(req.params.signature).toBe(p.signature);

    const res = await h.call(req.method, req.params);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (!req.recursive) return;
    const node = {nodeId: h.identity.nodeId, url: "", swarm: null, mlDsaPublicKey: h.identity.mlDsa.publicKey, mlKemPublicKey: h.identity.mlKem.publicKey};
    const outcome = swarmOutcome(res.body, {pq: await testPq(), keyOf: (id) => (id === node.nodeId ? node : undefined), receipt: req.receipt!});
    expect(outcome?.invalid).toEqual([]);
    expect(outcome?.confirmed).toEqual([h.identity.nodeId]);
  });
});

describe("receipts of real answers", () => {
  it("a store, delete, expire and delete_all round trip verifies; any altered field does not", async () => {
    const pq = await testPq();
    const me = new PqAccount({mlDsa: bytes(3, 32), mlKem: bytes(4, 64)}, pq);
    const node = {nodeId: h.identity.nodeId, url: "", swarm: null, mlDsaPublicKey: h.identity.mlDsa.publicKey, mlKemPublicKey: h.identity.mlKem.publicKey};
    const check = async (req: PreparedRequest, alter?: (e: Record<string, unknown>) => void): Promise<ReturnType<typeof swarmOutcome>> => {
      const res = await h.call(req.method, req.params);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const body = res.body as {swarm: Record<string, Record<string, unknown>>};
      if (alter !== undefined) alter(body.swarm[node.nodeId]!);
      return swarmOutcome(body, {pq, keyOf: (id) => (id === node.nodeId ? node : undefined), receipt: req.receipt!});
    };
    const stores = [1, 2, 3].map((i) => storeRequest({to: me.id, data: Buffer.from(`m${i}`), namespace: 5, ttlMs: 3_600_000}, NOW, me));
    for (const s of stores) expect((await check(s))?.confirmed).toHaveLength(1);
    const hashes = stores.map((s) => s.hash);
    expect((await check(expireRequest(me, {messages: hashes, expiry: NOW + 60_000, mode: "shorten"})))?.confirmed).toHaveLength(1);
    expect((await check(expireRequest(me, {messages: hashes.slice(0, 1), expiry: NOW + 30_000})))?.confirmed).toHaveLength(1);
    expect((await check(deleteRequest(me, hashes.slice(0, 1))))?.confirmed).toHaveLength(1);
    expect((await check(expireAllRequest(me, "all", NOW + 20_000)))?.confirmed).toHaveLength(1);
    const altered = await check(deleteAllRequest(me, "all", NOW), (e) => {
      (e.deleted as Record<string, string[]>)["5"]!.pop();
    });
    expect(altered?.invalid).toEqual([{nodeId: node.nodeId, reason: "signature does not verify"}]);
    const again = storeRequest({to: me.id, data: Buffer.from("x"), namespace: 5}, NOW, me);
    const forged = await check(again, (e) => {
      e.hash = hashes[0];
    });
    expect(forged?.invalid[0]?.reason).toBe("entry lacks the fields its receipt covers");
    const badPath = await check(storeRequest({to: me.id, data: Buffer.from("y"), namespace: 5}, NOW, me), (e) => {
      (e.signature_proof as {n: number}).n = 2;
    });
    expect(badPath?.invalid).toHaveLength(1);
  });

  it("a subaccount issued by a 05 owner signs requests the node accepts; read-only tokens cannot store", async () => {
    const owner = new Ed25519Account(bytes(5, 32));
    const rw = SubaccountAccount.issue(owner, new Ed25519Key(bytes(6, 32)), SUBACCOUNT_FLAGS.READ | SUBACCOUNT_FLAGS.WRITE);
    const ro = SubaccountAccount.issue(owner, new Ed25519Key(bytes(7, 32)), SUBACCOUNT_FLAGS.READ);
    const store = (a: ClientAccount): PreparedRequest => storeRequest({to: owner.id, data: Buffer.from("sub"), namespace: 3}, NOW, a);
    expect((await h.call("store", store(rw).params)).status).toBe(200);
    expect((await h.call("store", store(ro).params)).status).toBe(401);
    const res = await h.call("retrieve", retrieveRequest(ro, {namespace: 3}, NOW).params);
    expect((res.body as {messages: unknown[]}).messages).toHaveLength(1);
  });
});
