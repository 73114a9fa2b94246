/**
 * Micro-benchmark of the replication code's own share of a replicated store: the entry node's
 * fan-out (Forwarder, RpcBatcher, encode, seal, open, decode) and the peer's frame handling
 * (PeerRequestHandler: open, decode, encode, seal), with both peers in this process and no HTTP,
 * storage or RPC: the peer's RPC answers at once with a store-shaped entry carrying its batch's
 * ~4.4 KB ML-DSA signature. What it leaves out (the peers' store path, the HTTP requests) is what
 * the three-process profiles attribute elsewhere. CPU per store is this thread's CPU time for
 * `batch` concurrent forwards to two peers, divided by `batch`: small batches are the open loop at
 * moderate rates, large ones a saturated closed loop. `node dist/bench/replication-path.js` runs it.
 */
import {randomBytes} from "node:crypto";
import {pathToFileURL} from "node:url";
import {generateIdentity} from "../src/crypto/identity.js";
import {initHashing} from "../src/crypto/hash.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import type {NodeIdentity, PqBackend} from "../src/crypto/index.js";
import {ChannelTransport} from "../src/peer/transport.js";
import {PEER_PATHS} from "../src/peer/envelope.js";
import {Forwarder} from "../src/replication/forwarder.js";
import {PeerRequestHandler, type PeerHandlerModules} from "../src/replication/peer-handler.js";
import {PeerHealth} from "../src/replication/peer-health.js";
import {RpcBatcher} from "../src/replication/rpc-batcher.js";
import {PeerTransport} from "../src/replication/transport.js";
import {defaultReplicationOptions} from "../src/replication/options.js";
import {systemClock} from "../src/util/clock.js";
import type {Logger} from "../src/util/index.js";
import {median, round} from "./util.js";

export interface ReplicationPathRow {
  /** Concurrent forwards (one client store each) per round. */
  batch: number;
  /** Entry and peer replication CPU per replicated store (two peers), in µs; median of the reps. */
  usPerStore: number;
}

const ML_DSA_65_SIGNATURE_BYTES = 3309;
const silent = new Proxy({}, {get: () => () => undefined}) as unknown as Logger;

/** A peer's answers: a store entry per call, the batch sharing one signature, as the response signer makes them. */
function storeRpc(): PeerHandlerModules["rpc"] {
  // Made up front: random bytes per call would cost more than what is measured.
  const signatures = Array.from({length: 8}, () => randomBytes(ML_DSA_65_SIGNATURE_BYTES).toString("base64"));
  const hashes = Array.from({length: 1024}, () => randomBytes(32).toString("base64").slice(0, 43));
  const path = Array.from({length: 4}, () => randomBytes(32).toString("base64"));
  let batches = 0;
  let calls = 0;
  let pending = 0;
  return {
    handle: async (_method, params) => {
      if (pending++ === 0) batches++;
      const signature = signatures[batches % signatures.length] as string;
      const i = pending - 1;
      await Promise.resolve();
      pending = 0;
      const t = Number(params.timestamp);
      const hash = hashes[calls++ % hashes.length] as string;
      return {status: 200, body: {hash, expiry: t + 86_400_000, signature, signature_proof: {t, n: 16, i, path}, t}};
    },
  };
}

function peerSide(pq: PqBackend, self: NodeIdentity, keysOf: (id: string) => {mlDsaPublicKey: Uint8Array; mlKemPublicKey: Uint8Array} | null): PeerRequestHandler {
  const link = new ChannelTransport({}, {pq, identity: self, client: {post: () => Promise.reject(new Error("peer side sends nothing"))}, keys: {keysOf}, clock: systemClock});
  const unused = (): never => {
    throw new Error("not used by rpc_batch");
  };
  return new PeerRequestHandler(defaultReplicationOptions, {
    channels: link.channels,
    rpc: storeRpc(),
    store: {storeBulk: unused, applyTombstones: unused},
    tables: {bucketMessages: unused, bucketTombstones: unused, messagesByHash: unused, settled: unused},
    index: {digest: unused},
    revocationIndex: {digest: unused},
    revocations: {list: unused, accept: unused},
    view: {} as PeerHandlerModules["view"],
    clock: systemClock,
    logger: silent,
    onContact: () => undefined,
  });
}

function setup(pq: PqBackend): Forwarder {
  const ids = [generateIdentity(pq), generateIdentity(pq), generateIdentity(pq)] as const;
  const byId = new Map(ids.map((i) => [i.nodeId, i]));
  const keysOf = (id: string): {mlDsaPublicKey: Uint8Array; mlKemPublicKey: Uint8Array} | null => {
    const i = byId.get(id);
    return i === undefined ? null : {mlDsaPublicKey: i.mlDsa.publicKey, mlKemPublicKey: i.mlKem.publicKey};
  };
  const [entry, ...peers] = ids;
  const handlers = new Map(peers.map((p) => [p.nodeId, peerSide(pq, p, keysOf)]));
  const client = {
    post: async (peer: string, path: string, body: Uint8Array) => {
      const h = handlers.get(peer);
      if (h === undefined) throw new Error(`unknown peer ${peer}`);
      const out = path === PEER_PATHS.handshake ? await h.acceptHandshake(body) : await h.handleFrame(body);
      return {status: 200, body: Buffer.from(out.buffer, out.byteOffset, out.byteLength), attempts: 1};
    },
  };
  const transport = new PeerTransport(new ChannelTransport({}, {pq, identity: entry, client, keys: {keysOf}, clock: systemClock}));
  const batcher = new RpcBatcher({maxBatchBytes: defaultReplicationOptions.maxBatchBytes}, {transport});
  return new Forwarder(defaultReplicationOptions, {
    batcher,
    view: {peers: () => peers.map((p) => ({nodeId: p.nodeId})) as never},
    retries: {enqueue: () => undefined},
    health: new PeerHealth(5_000, systemClock),
    clock: systemClock,
    logger: silent,
  });
}

function storeParams(): Record<string, unknown> {
  return {pubkey: `05${randomBytes(32).toString("hex")}`, timestamp: Date.now(), ttl: 86_400_000, data: randomBytes(700).toString("base64")};
}

async function measure(fwd: Forwarder, batch: number, rounds: number): Promise<number> {
  const params = Array.from({length: batch}, storeParams);
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const entries = await Promise.all(params.map((p) => fwd.forward("store", p)));
    if (entries.some((e) => Object.values(e).some((x) => x.failed === true))) throw new Error("a forward failed");
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / (rounds * batch);
}

export async function benchReplicationPath({batches = [1, 4, 16, 64], reps = 7, storesPerRep = 2_000} = {}): Promise<ReplicationPathRow[]> {
  await initHashing();
  const fwd = setup(await loadPqBackend("auto"));
  await measure(fwd, 16, 50); // handshakes, warm-up
  const samples = new Map<number, number[]>(batches.map((b) => [b, []]));
  for (let r = 0; r < reps; r++) {
    for (const b of batches) samples.get(b)?.push(await measure(fwd, b, Math.max(1, Math.round(storesPerRep / b))));
  }
  return batches.map((batch) => ({batch, usPerStore: round(median(samples.get(batch) ?? []), 1)}));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchReplicationPath()) process.stdout.write(`batch ${String(r.batch).padStart(3)}  ${String(r.usPerStore).padStart(7)} µs CPU per replicated store (entry + 2 peers, no HTTP/storage)\n`);
  process.exit(0);
}
