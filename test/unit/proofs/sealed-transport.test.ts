/**
 * Storage-proof messages in the ML-KEM peer channel (PROTOCOL.md (Storage proofs) §9.2): the
 * sender's channelProofTransport seals them through the real ChannelTransport and PeerTransport,
 * the receiver's real PeerRequestHandler opens them and hands them to the proofs with the channel's
 * peer; a tampered or replayed frame is refused with the channel's error and reaches no proof code;
 * a peer of an older version (no proof messages) is served over HTTP.
 */
import {beforeAll, describe, expect, it} from "vitest";
import {channelErrorStatus} from "../../../src/api/http/routes/peer.js";
import {initHashing} from "../../../src/crypto/hash.js";
import {ChannelError, ChannelManager, PEER_PATHS, type PeerEndpoint} from "../../../src/peer/index.js";
import {ChannelTransport} from "../../../src/peer/transport.js";
import {
  channelProofTransport,
  HTTP_FALLBACK_MS,
  ProofError,
  sealedProofEndpoint,
  type PeerInfo,
  type ProofAnswerer,
  type ProofTransport,
} from "../../../src/proofs/index.js";
import {resolveReplicationOptions} from "../../../src/replication/options.js";
import {PeerRequestHandler, type SealedProofApi} from "../../../src/replication/peer-handler.js";
import {PeerTransport} from "../../../src/replication/transport.js";
import {encodePeerMessage} from "../../../src/replication/wire.js";
import type {PeerHandlerModules} from "../../../src/replication/peer-handler.js";
import {ManualClock} from "../../../src/util/clock.js";
import {keysOf, nobleBackend, T0, testIdentity} from "../peer/channel/helpers.js";
import {silent} from "./helpers.js";

beforeAll(async () => {
  await initHashing();
});

const CHALLENGE_BODY = {challenge: {challengerId: "", targetId: "", messageHash: "secret-hash-of-the-challenge", nonce: "00", signature: "c2ln"}};

interface Calls {
  answers: Array<{peer: string; request: Record<string, unknown>}>;
  pushes: Array<{peer: string; proof: Record<string, unknown>}>;
}

/** Node a (sender) and node b (receiver: a real PeerRequestHandler), joined by the peer routes' status mapping. */
function setup(opts: {proofs?: (calls: Calls) => SealedProofApi | null; endpoint?: (channels: ChannelManager) => PeerEndpoint} = {}) {
  const clock = new ManualClock(T0);
  const [a, b] = [testIdentity("proof-a"), testIdentity("proof-b")];
  const members = new Map([a, b].map((id) => [id.nodeId, keysOf(id)]));
  const calls: Calls = {answers: [], pushes: []};
  const bChannels = new ChannelManager({}, {
    pq: nobleBackend,
    identity: b,
    lookupPeer: (id) => members.get(id) ?? null,
    sendHandshake: () => Promise.reject(new Error("b never initiates")),
    clock,
  });
  const proofs: SealedProofApi | null = opts.proofs !== undefined ? opts.proofs(calls) : {
    answer: (peer, request) => {
      calls.answers.push({peer, request});
      return Promise.resolve({answered: true, by: b.nodeId});
    },
    acceptPeerProof: (peer, proof) => void calls.pushes.push({peer, proof}),
  };
  // Only the channels, the proofs and onContact take part in proof messages.
  const modules = {channels: bChannels, proofs, clock, logger: silent, onContact: () => undefined} as unknown as PeerHandlerModules;
  const endpoint = opts.endpoint?.(bChannels) ?? new PeerRequestHandler(resolveReplicationOptions({}), modules);
  const frames: Buffer[] = [];
  let tamper: ((frame: Buffer) => Buffer) | null = null;
  /** Like api/http/routes/peer.ts: a ChannelError becomes its status and `{code, action}`. */
  const route = async (run: () => Promise<Uint8Array>) => {
    try {
      return {status: 200, body: Buffer.from(await run()), attempts: 1};
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      return {status: channelErrorStatus(err), body: Buffer.from(JSON.stringify({code: err.code, action: err.action})), attempts: 1};
    }
  };
  const client = {
    post: (_peer: string, path: string, body: Uint8Array) => {
      if (path === PEER_PATHS.handshake) return route(() => endpoint.acceptHandshake(body));
      const frame = tamper === null ? Buffer.from(body) : tamper(Buffer.from(body));
      frames.push(frame);
      return route(() => endpoint.handleFrame(frame));
    },
  };
  const link = new ChannelTransport({}, {pq: nobleBackend, identity: a, client, keys: {keysOf: (id) => members.get(id) ?? null}, clock});
  const http: Array<{kind: string; peer: string; body: string}> = [];
  const fallback: ProofTransport = {
    sendChallenge: (peer, body) => {
      http.push({kind: "challenge", peer: peer.nodeId, body});
      return Promise.resolve(JSON.stringify({viaHttp: true}));
    },
    sendProof: (peer, body) => {
      http.push({kind: "proof", peer: peer.nodeId, body});
      return Promise.resolve();
    },
  };
  const transport = channelProofTransport(new PeerTransport(link), fallback, () => clock.now());
  const peerB: PeerInfo = {nodeId: b.nodeId, keys: {mlDsa: b.mlDsa.publicKey, mlKem: b.mlKem.publicKey}};
  return {
    a,
    b,
    clock,
    calls,
    frames,
    http,
    endpoint,
    transport,
    peerB,
    setTamper: (fn: ((frame: Buffer) => Buffer) | null) => void (tamper = fn),
    close: () => link.close(),
  };
}

const challengeText = (challengerId: string): string => JSON.stringify({challenge: {...CHALLENGE_BODY.challenge, challengerId}});

describe("channelProofTransport over the real channel and peer handler", () => {
  it("seals a challenge (no plaintext on the wire); the receiver opens it and answers, knowing the sender", async () => {
    const t = setup();
    try {
      const text = await t.transport.sendChallenge(t.peerB, challengeText(t.a.nodeId), 5_000);
      expect(JSON.parse(text)).toEqual({answered: true, by: t.b.nodeId});
      expect(t.calls.answers).toEqual([{peer: t.a.nodeId, request: JSON.parse(challengeText(t.a.nodeId)) as unknown}]);
      expect(t.frames).toHaveLength(1);
      expect(t.frames[0]!.includes("secret-hash-of-the-challenge")).toBe(false);
      expect(t.frames[0]!.includes("proof_challenge")).toBe(false);
      expect(t.http).toEqual([]);
    } finally {
      t.close();
    }
  });

  it("pushes a proof sealed; the receiver gets it with the channel's peer", async () => {
    const t = setup();
    try {
      await t.transport.sendProof(t.peerB, JSON.stringify({nodeId: t.a.nodeId, timestamp: 1}), 5_000);
      expect(t.calls.pushes).toEqual([{peer: t.a.nodeId, proof: {nodeId: t.a.nodeId, timestamp: 1}}]);
      expect(t.http).toEqual([]);
    } finally {
      t.close();
    }
  });

  it("a tampered frame is refused with the channel's error (CHANNEL_ERROR_AUTH, 403) and reaches no proof code", async () => {
    const t = setup();
    try {
      await t.transport.sendProof(t.peerB, JSON.stringify({nodeId: t.a.nodeId, timestamp: 1}), 5_000); // the channel exists
      t.setTamper((frame) => {
        const copy = Buffer.from(frame);
        copy[copy.length - 1]! ^= 0x01; // the AEAD tag
        return copy;
      });
      const err = await t.transport.sendChallenge(t.peerB, challengeText(t.a.nodeId), 5_000).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProofError);
      expect((err as ProofError).code).toBe("PROOF_ERROR_TRANSPORT");
      expect((err as Error).message).toContain("CHANNEL_ERROR_AUTH");
      expect(((err as Error).cause as {type: {status: number}}).type.status).toBe(403);
      expect(t.calls.answers).toEqual([]);
      expect(t.calls.pushes).toHaveLength(1);
      expect(t.http).toEqual([]); // a refused frame is not a reason to go around the channel
    } finally {
      t.close();
    }
  });

  it("a replayed frame is refused with CHANNEL_ERROR_REPLAY and changes nothing", async () => {
    const t = setup();
    try {
      await t.transport.sendProof(t.peerB, JSON.stringify({nodeId: t.a.nodeId, timestamp: 1}), 5_000);
      const replayed = t.frames[0]!;
      const err = await t.endpoint.handleFrame(replayed).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).code).toBe("CHANNEL_ERROR_REPLAY");
      expect(t.calls.pushes).toHaveLength(1);
    } finally {
      t.close();
    }
  });

  it("a proof refusal comes back as its PROOF_ERROR code inside the channel, not a fallback", async () => {
    const t = setup({
      proofs: () => ({
        answer: () => Promise.reject(new ProofError({code: "PROOF_ERROR_NOT_READY"}, "no storage proof signed yet")),
        acceptPeerProof: () => {
          throw new ProofError({code: "PROOF_ERROR_STALE"}, "not newer");
        },
      }),
    });
    try {
      await expect(t.transport.sendChallenge(t.peerB, challengeText(t.a.nodeId), 5_000)).rejects.toThrow(/PROOF_ERROR_NOT_READY/);
      await expect(t.transport.sendProof(t.peerB, "{}", 5_000)).rejects.toThrow(/PROOF_ERROR_STALE/);
      expect(t.http).toEqual([]);
    } finally {
      t.close();
    }
  });

  it("a node without proofs answers no_proofs", async () => {
    const t = setup({proofs: () => null});
    try {
      await expect(t.transport.sendProof(t.peerB, "{}", 5_000)).rejects.toThrow(/no_proofs/);
    } finally {
      t.close();
    }
  });

  it("a peer of an older version (unknown request type) is served over HTTP, and tried on the channel again later", async () => {
    let opened = 0;
    // What an older PeerRequestHandler answers: its decoder does not know the type.
    const old = (channels: ChannelManager): PeerEndpoint => ({
      acceptHandshake: (init) => channels.acceptHandshake(init),
      handleFrame: (frame) => {
        const o = channels.open(frame);
        opened++;
        const type = (JSON.parse(Buffer.from(o.plaintext).toString("utf8")) as {type: string}).type;
        return Promise.resolve(channels.sealOn(o.channelId, encodePeerMessage({type: "error", code: "bad_message", message: `bad peer message: unknown request type ${type}`})));
      },
    });
    const t = setup({endpoint: old});
    try {
      expect(JSON.parse(await t.transport.sendChallenge(t.peerB, challengeText(t.a.nodeId), 5_000))).toEqual({viaHttp: true});
      await t.transport.sendProof(t.peerB, "{}", 5_000);
      expect(opened).toBe(1); // remembered: the proof went straight to HTTP
      expect(t.http.map((x) => x.kind)).toEqual(["challenge", "proof"]);
      expect(t.http[0]!.body).toBe(challengeText(t.a.nodeId)); // the same signed JSON
      t.clock.advance(HTTP_FALLBACK_MS + 1);
      await t.transport.sendProof(t.peerB, "{}", 5_000);
      expect(opened).toBe(2);
    } finally {
      t.close();
    }
  });
});

describe("sealedProofEndpoint", () => {
  const A = "aa".repeat(32);
  const B = "bb".repeat(32);
  function answerer(allow?: (peer: string) => boolean) {
    const seen: unknown[] = [];
    const proofs: ProofAnswerer = {
      answer: (body) => {
        seen.push(body);
        return Promise.reject(new ProofError({code: "PROOF_ERROR_NOT_READY"}, "stop here"));
      },
      acceptPeerProof: (body) => {
        seen.push(body);
        return body as never;
      },
    };
    return {seen, endpoint: sealedProofEndpoint(proofs, allow)};
  }

  it("refuses a challenge whose challenger is not the channel's peer, before any verification", async () => {
    const {seen, endpoint} = answerer();
    await expect(endpoint.answer(B, {challenge: {challengerId: A}})).rejects.toMatchObject({code: "PROOF_ERROR_BAD_SIGNATURE"});
    expect(seen).toEqual([]);
    await expect(endpoint.answer(A, {challenge: {challengerId: A}})).rejects.toMatchObject({code: "PROOF_ERROR_NOT_READY"});
    expect(seen).toHaveLength(1);
  });

  it("refuses a pushed proof of another node than the channel's peer", () => {
    const {seen, endpoint} = answerer();
    expect(() => endpoint.acceptPeerProof(B, {nodeId: A})).toThrow(expect.objectContaining({code: "PROOF_ERROR_NOT_SWARM_PEER"}) as Error);
    expect(seen).toEqual([]);
    endpoint.acceptPeerProof(A, {nodeId: A});
    expect(seen).toEqual([{nodeId: A}]);
  });

  it("keeps the HTTP route's challenge rate limit, per node ID: a refused peer reaches no proof code", async () => {
    const allowed = new Set([A]);
    const {seen, endpoint} = answerer((peer) => allowed.has(peer));
    await expect(endpoint.answer(B, {challenge: {challengerId: B}})).rejects.toMatchObject({code: "PROOF_ERROR_RATE_LIMITED"});
    expect(() => endpoint.acceptPeerProof(B, {nodeId: B})).toThrow(expect.objectContaining({code: "PROOF_ERROR_RATE_LIMITED"}) as Error);
    expect(seen).toEqual([]);
    await expect(endpoint.answer(A, {challenge: {challengerId: A}})).rejects.toMatchObject({code: "PROOF_ERROR_NOT_READY"});
    expect(seen).toHaveLength(1);
  });
});
