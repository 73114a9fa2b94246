/**
 * Helpers for the channel tests: deterministic identities, and a tiny in-process "network" of
 * ChannelManagers whose sendHandshake calls the peer's acceptHandshake directly.
 */
import {generateIdentity} from "../../../../src/crypto/identity.js";
import type {NodeIdentity} from "../../../../src/crypto/key-file.js";
import {nobleBackend} from "../../../../src/crypto/pq/noble.js";
import {ChannelError} from "../../../../src/peer/channel/errors.js";
import {ChannelManager, type ChannelManagerModules} from "../../../../src/peer/channel/manager.js";
import type {ChannelManagerOptions} from "../../../../src/peer/channel/options.js";
import type {PeerKeys} from "../../../../src/peer/channel/peers.js";
import {ManualClock} from "../../../../src/util/clock.js";
import {detBytes} from "../../../utils/prng.js";

export {detBytes, nobleBackend};

export const T0 = 1_767_225_600_000;


const identities = new Map<string, NodeIdentity>();

/** Cached deterministic identity (needs initHashing() first). */
export function testIdentity(label: string): NodeIdentity {
  let id = identities.get(label);
  if (id === undefined) {
    id = generateIdentity(nobleBackend, {mlDsa: detBytes(`dsa/${label}`, 32), mlKem: detBytes(`kem/${label}`, 64)});
    identities.set(label, id);
  }
  return id;
}

export function keysOf(id: NodeIdentity): PeerKeys {
  return {mlDsaPublicKey: id.mlDsa.publicKey, mlKemPublicKey: id.mlKem.publicKey};
}

export interface TestNode {
  readonly id: NodeIdentity;
  readonly manager: ChannelManager;
  readonly rejected: ChannelError[];
  /** Number of Init messages this node sent. */
  handshakesSent: number;
}

/** Nodes that share one membership and one clock; handshakes go straight to the peer's manager. */
export class TestNet {
  readonly clock = new ManualClock(T0);
  readonly membership = new Map<string, PeerKeys>();
  readonly nodes = new Map<string, TestNode>();

  add(label: string, opts: Partial<ChannelManagerOptions> = {}, extra: Partial<ChannelManagerModules> = {}): TestNode {
    const id = testIdentity(label);
    this.membership.set(id.nodeId, keysOf(id));
    const rejected: ChannelError[] = [];
    const node: TestNode = {id, rejected, handshakesSent: 0, manager: undefined as unknown as ChannelManager};
    const manager = new ChannelManager(opts, {
      pq: nobleBackend,
      identity: id,
      lookupPeer: (nodeId) => this.membership.get(nodeId) ?? null,
      sendHandshake: async (peer, init) => {
        node.handshakesSent++;
        const target = this.nodes.get(peer);
        if (target === undefined) throw new Error(`no route to ${peer}`);
        return target.manager.acceptHandshake(init);
      },
      clock: this.clock,
      onReject: (err) => rejected.push(err),
      ...extra,
    });
    Object.assign(node, {manager});
    this.nodes.set(id.nodeId, node);
    return node;
  }
}

/** The ChannelError code `fn` throws (fails the test if it throws anything else or nothing). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChannelError) return err.code;
    throw err;
  }
  throw new Error("expected a ChannelError, nothing was thrown");
}

export async function asyncCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ChannelError) return err.code;
    throw err;
  }
  throw new Error("expected a ChannelError, the promise resolved");
}

export function flip(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = new Uint8Array(bytes); // a copy (Buffer#slice would be a view)
  out[index] = out[index]! ^ mask;
  return out;
}
