/**
 * Wiring of onion requests (docs/PROTOCOL.md "Onion requests"): the hop layer opened with this
 * node's X25519 and ML-KEM keys, relays forwarded only to membership nodes, relay headers signed
 * by the node's ML-DSA key, and the final hop's RPC run like /storage_rpc/v1.
 */
import type {Logger} from "pino";
import type {ParsStorageConfig} from "../config/index.js";
import type {NodeIdentity, PqBackend} from "../crypto/index.js";
import {onionSecretKeys, openLayer, parseEntryBlob, type EntryBlob} from "../onion/index.js";
import {OnionRelay, RelayAuth, peerForward, type OnionLayers} from "../onion-relay/index.js";
import type {PeerClient} from "../peer/index.js";
import type {RequestPipeline} from "../rpc/index.js";
import type {ContextSigner} from "../signer/index.js";
import type {MembershipService, NodeRecord} from "../swarm/index.js";
import type {OnionMetrics} from "../metrics/index.js";
import type {Clock} from "../util/index.js";

export interface OnionParts {
  relay: OnionRelay;
}

export interface OnionWiringModules {
  identity: NodeIdentity;
  pq: PqBackend;
  clock: Clock;
  signer: ContextSigner;
  membership: MembershipService | null;
  /** The node-to-node client (null without a membership: then every next hop is unknown). */
  peers: PeerClient | null;
  /** The one request pipeline (readiness, the per-IP bucket, shape checks, dispatch). */
  pipeline: RequestPipeline;
  logger: Logger;
  /** Hop times; null when metrics are off. */
  metrics: OnionMetrics | null;
}

/** Null when onion requests are off or the identity has no X25519 key. */
export function buildOnion(config: ParsStorageConfig, m: OnionWiringModules): OnionParts | null {
  // loadOrCreateIdentity always adds the X25519 key; an identity built without one serves no onions.
  if (!config.onion.enabled || m.identity.x25519 === undefined) return null;
  const keys = onionSecretKeys(m.identity);
  const layers: OnionLayers<EntryBlob> = {
    parseEntryBlob,
    openLayer: (entry) => openLayer(keys, entry, {mlKem: m.pq.mlKem768}),
  };
  const member = (nodeId: string): NodeRecord | null => m.membership?.snapshot?.view.node(nodeId) ?? null;
  const auth = new RelayAuth({
    pq: m.pq,
    signer: m.signer,
    clock: m.clock,
    ourNodeId: m.identity.nodeId,
    memberKey: (id) => member(id)?.mlDsaPublicKey ?? null,
  });
  const {relayTimeoutMs, maxConcurrentRelays, maxResponseBytes} = config.onion;
  const relay = new OnionRelay(
    {relayTimeoutMs, maxConcurrentRelays, maxResponseBytes},
    {
      layers: layers as OnionLayers,
      forward: m.peers === null ? () => Promise.resolve({kind: "unknown_node"}) : peerForward(m.peers),
      // The entry hop charges the client's bucket; the final hop's RPC is charged to nobody, since
      // the client paid at the entry and this hop does not know it (rpc/pipeline.ts RequestSource).
      admit: (ip) => m.pipeline.admit({transport: "onion", ip}),
      dispatch: (body) => m.pipeline.handle(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {transport: "onion", ip: null}),
      auth,
      isMember: (id) => member(id) !== null,
      logger: m.logger,
      metrics: m.metrics,
    },
  );
  return {relay};
}
