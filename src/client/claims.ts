/**
 * Reward claims (docs/PROTOCOL.md (Rewards) §5, PIP-0008 §2.3): `aggregateClaim` asks nodes for
 * their BLS signature over an address's claim (`POST /rewards/v1/claim`) and, once the nodes that
 * signed one and the same message hold at least 2/3 of the active stake, aggregates their
 * signatures into one that verifies against the sum of their public keys. `verifyClaim` is the
 * check a payer (the rewards contract) makes: message well formed, not expired, aggregate valid.
 *
 * Trust: a node's BLS public key must come from its signed node record (whose proof of possession
 * the membership checked; aggregating keys without one allows rogue-key forgeries), never from
 * the node's answer; an answer whose key differs is not counted.
 */
import {blsAggregatePublicKeys, blsAggregateSignatures, blsVerify, blsVerifyAggregate} from "../crypto/index.js";
import {decodeClaimMessage, normalizeClaimAddress, type ClaimMessage} from "../protocol/index.js";
import {ClientError} from "./errors.js";
import type {HttpRequester} from "./transport.js";

export const CLAIM_PATH = "/rewards/v1/claim";

/** A node to ask: its client URL, its stake and its BLS key from its signed record. */
export interface ClaimNode {
  readonly nodeId: string;
  readonly url: string;
  readonly tlsPin?: string;
  /** The node's total stake in base units (operator and contributors); the active set's sum is the quorum's base. */
  readonly stake: bigint;
  /** 48-byte BLS public key from the node record; a node without one cannot count. */
  readonly blsPublicKey?: Uint8Array;
}

export interface AggregateClaimOptions {
  readonly address: string;
  /** The active nodes: 2/3 of their total stake must sign the same message. */
  readonly nodes: readonly ClaimNode[];
  readonly http: Pick<HttpRequester, "post">;
  /** Refuse messages for another network. */
  readonly networkId?: number;
  /** Unix ms now (default Date.now): expired messages are not counted. */
  readonly now?: () => number;
}

export interface AggregatedClaim {
  readonly claim: ClaimMessage;
  readonly message: Uint8Array;
  /** Node IDs whose signatures are in the aggregate. */
  readonly signers: readonly string[];
  readonly publicKeys: readonly Uint8Array[];
  readonly aggregatePublicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly signedStake: bigint;
  readonly totalStake: bigint;
}

interface Group {
  message: Uint8Array;
  claim: ClaimMessage;
  signers: Array<{node: ClaimNode; signature: Uint8Array}>;
  stake: bigint;
}

/** ≥ 2/3 of the total, in integers: 3 × signed ≥ 2 × total. */
export function hasClaimQuorum(signedStake: bigint, totalStake: bigint): boolean {
  return totalStake > 0n && 3n * signedStake >= 2n * totalStake;
}

/**
 * Collects claim signatures until the nodes that signed one message hold ≥ 2/3 of the nodes'
 * total stake, then returns that message with the aggregate of exactly those signatures. Nodes
 * are asked all at once; answers after the quorum are ignored. Throws CLIENT_ERROR_CLAIM_QUORUM
 * when every node has answered (or failed) without a quorum.
 */
export async function aggregateClaim(o: AggregateClaimOptions): Promise<AggregatedClaim> {
  const address = normalizeClaimAddress(o.address);
  if (address === null) throw new ClientError({code: "CLIENT_ERROR_CLAIM_INVALID", reason: "malformed"}, "not a claim address");
  const totalStake = o.nodes.reduce((sum, n) => sum + n.stake, 0n);
  const groups = new Map<string, Group>();
  const failures: Array<{nodeId: string; reason: string}> = [];
  const now = o.now ?? Date.now;
  return new Promise<AggregatedClaim>((resolve, reject) => {
    let pending = o.nodes.length;
    let done = false;
    const settle = (): void => {
      if (done || --pending > 0) return;
      done = true;
      const signedStake = [...groups.values()].reduce((max, g) => (g.stake > max ? g.stake : max), 0n);
      reject(
        new ClientError(
          {code: "CLIENT_ERROR_CLAIM_QUORUM", signedStake, totalStake, failures},
          `no claim message was signed by 2/3 of the active stake (best ${signedStake} of ${totalStake})`,
        ),
      );
    };
    if (o.nodes.length === 0) {
      pending = 1;
      settle();
      return;
    }
    for (const node of o.nodes) {
      askNode(o, node, address, now)
        .then((answer) => {
          if (done) return;
          const key = Buffer.from(answer.message).toString("hex");
          const group = groups.get(key) ?? {message: answer.message, claim: answer.claim, signers: [], stake: 0n};
          group.signers.push({node, signature: answer.signature});
          group.stake += node.stake;
          groups.set(key, group);
          if (hasClaimQuorum(group.stake, totalStake)) {
            done = true;
            resolve(aggregate(group, totalStake));
          }
        })
        .catch((err: unknown) => failures.push({nodeId: node.nodeId, reason: err instanceof Error ? err.message : String(err)}))
        .finally(settle);
    }
  });
}

async function askNode(
  o: AggregateClaimOptions,
  node: ClaimNode,
  address: string,
  now: () => number,
): Promise<{message: Uint8Array; claim: ClaimMessage; signature: Uint8Array}> {
  if (node.blsPublicKey === undefined) throw new Error("no BLS key in the node's record");
  const res = await o.http.post(node.url + CLAIM_PATH, JSON.stringify({address}), "application/json", node.tlsPin);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
  const body = JSON.parse(res.text) as {message?: unknown; signature?: unknown; public_key?: unknown};
  const hex = (v: unknown): Uint8Array => (typeof v === "string" && /^([0-9a-f]{2})+$/.test(v) ? new Uint8Array(Buffer.from(v, "hex")) : new Uint8Array(0));
  const message = hex(body.message);
  const signature = hex(body.signature);
  const claim = decodeClaimMessage(message);
  if (claim === null || claim.address !== address) throw new Error("the answer's message is not a claim for this address");
  if (o.networkId !== undefined && claim.networkId !== o.networkId) throw new Error(`the claim is for network ${claim.networkId}`);
  if (now() > claim.expiryMs) throw new Error("the claim has already expired");
  if (Buffer.from(hex(body.public_key)).compare(Buffer.from(node.blsPublicKey)) !== 0) throw new Error("signed with a key other than its record's");
  if (!blsVerify(node.blsPublicKey, message, signature)) throw new Error("the signature does not verify");
  return {message, claim, signature};
}

function aggregate(group: Group, totalStake: bigint): AggregatedClaim {
  const publicKeys = group.signers.map((s) => s.node.blsPublicKey ?? new Uint8Array(0));
  return {
    claim: group.claim,
    message: group.message,
    signers: group.signers.map((s) => s.node.nodeId),
    publicKeys,
    aggregatePublicKey: blsAggregatePublicKeys(publicKeys),
    signature: blsAggregateSignatures(group.signers.map((s) => s.signature)),
    signedStake: group.stake,
    totalStake,
  };
}

/**
 * What a payer checks before paying a claim: the message is a claim (for `networkId` if given),
 * `nowMs` is not past its expiry (PIP-0008 §2.3 signatureExpiry), and `signature` is the aggregate
 * of the `publicKeys`' signatures over it. Returns the decoded claim; throws CLIENT_ERROR_CLAIM_INVALID.
 * Whether the keys hold 2/3 of the stake is the payer's to check against its own validator set.
 */
export function verifyClaim(o: {
  message: Uint8Array;
  signature: Uint8Array;
  publicKeys: readonly Uint8Array[];
  nowMs: number;
  networkId?: number;
}): ClaimMessage {
  const invalid = (reason: "malformed" | "expired" | "wrong-network" | "bad-signature", text: string): ClientError =>
    new ClientError({code: "CLIENT_ERROR_CLAIM_INVALID", reason}, text);
  const claim = decodeClaimMessage(o.message);
  if (claim === null) throw invalid("malformed", "not a claim message");
  if (o.networkId !== undefined && claim.networkId !== o.networkId) throw invalid("wrong-network", `claim for network ${claim.networkId}`);
  if (o.nowMs > claim.expiryMs) throw invalid("expired", `the claim expired at ${new Date(claim.expiryMs).toISOString()}`);
  if (!blsVerifyAggregate(o.publicKeys, o.message, o.signature)) throw invalid("bad-signature", "the aggregate signature does not verify");
  return claim;
}
