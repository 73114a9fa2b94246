/**
 * Claim signatures (PIP-0008 §2.3; docs/PROTOCOL.md (Rewards) §5): this node signs, with its BLS
 * key, a message saying that an address has earned a cumulative amount up to the newest final
 * epoch, valid for 10 minutes. Every node computes the same balances, so the same message is
 * signed by each node asked within the same expiry step, and a client aggregates the signatures.
 * The node caps what it signs per claim cycle (`claimThreshold` per `claimCycle`, all addresses
 * together, as Session's contract): only the increase over the address's previous claim counts.
 */
import {SIGNATURE_EXPIRY_MS, claimableNow} from "../economics/index.js";
import {encodeClaimMessage, normalizeClaimAddress} from "../protocol/index.js";
import type {RewardTables} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import {RewardsError} from "./errors.js";
import type {RewardServiceOptions} from "./options.js";

/** The node's BLS key as claims use it (min-pk: 48-byte public key, 96-byte signature). */
export interface ClaimSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * Expiry is `now + 10 min` rounded down to this step, so nodes asked within the same step sign
 * byte-identical messages (their clocks and the client's requests are never the same millisecond);
 * a signature is therefore valid for between 9 and 10 minutes.
 */
export const CLAIM_EXPIRY_STEP_MS = 60_000;

export interface SignedClaim {
  readonly networkId: number;
  readonly address: string;
  readonly amount: bigint;
  readonly expiryMs: number;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly nodeId: string;
}

export class ClaimService {
  constructor(
    private readonly opts: Pick<RewardServiceOptions, "networkId" | "claimLimits">,
    private readonly modules: {
      clock: Clock;
      nodeId: string;
      tables: Pick<RewardTables, "balance" | "lastClaim" | "claimsSince" | "addClaim">;
      signer: ClaimSigner;
    },
  ) {}

  /** Signs a claim for `rawAddress`'s cumulative balance; throws a RewardsError when it must not. */
  async claim(rawAddress: unknown): Promise<SignedClaim> {
    const address = typeof rawAddress === "string" ? normalizeClaimAddress(rawAddress) : null;
    if (address === null) {
      throw new RewardsError({code: "REWARDS_ERROR_BAD_REQUEST"}, "address must be a string of 1-128 printable ASCII characters");
    }
    const {clock, tables} = this.modules;
    const balance = tables.balance(address);
    if (balance === null) throw new RewardsError({code: "REWARDS_ERROR_UNKNOWN_ADDRESS"}, `no rewards were ever earned by ${address}`);
    if (balance.earned === 0n) throw new RewardsError({code: "REWARDS_ERROR_NOTHING_TO_CLAIM"}, `${address} has a zero balance`);
    const now = clock.now();
    const previous = tables.lastClaim(address)?.amount ?? 0n;
    const delta = balance.earned > previous ? balance.earned - previous : 0n;
    const cycleStart = now - (now % this.opts.claimLimits.cycleMs);
    const history = tables.claimsSince(cycleStart).map((c) => ({atMs: c.atMs, amount: c.delta}));
    const decision = claimableNow(history, now, delta, this.opts.claimLimits);
    if (!decision.allowed) {
      throw new RewardsError(
        {code: "REWARDS_ERROR_CLAIM_THRESHOLD", retryAtMs: decision.cycleEndsAtMs},
        `claim of ${delta} base units exceeds what is left of this cycle's claim threshold (${decision.remaining} of ` +
          `${this.opts.claimLimits.threshold}); the cycle ends at ${new Date(decision.cycleEndsAtMs).toISOString()}`,
      );
    }
    const expiryMs = Math.floor((now + SIGNATURE_EXPIRY_MS) / CLAIM_EXPIRY_STEP_MS) * CLAIM_EXPIRY_STEP_MS;
    const message = encodeClaimMessage({networkId: this.opts.networkId, address, amount: balance.earned, expiryMs});
    // Recorded before the signature is awaited, so a claim arriving meanwhile sees it in the cycle's
    // total; a signing failure leaves it counted, which errs on the side of the cap.
    if (delta > 0n) tables.addClaim({address, amount: balance.earned, delta, atMs: now, expiryMs});
    const signature = await this.modules.signer.sign(message);
    const {networkId} = this.opts;
    return {networkId, address, amount: balance.earned, expiryMs, message, signature, publicKey: this.modules.signer.publicKey, nodeId: this.modules.nodeId};
  }
}

export function signedClaimToJson(c: SignedClaim): Record<string, unknown> {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
  return {
    network_id: c.networkId,
    address: c.address,
    amount: c.amount.toString(),
    expiry_ms: c.expiryMs,
    message: hex(c.message),
    signature: hex(c.signature),
    public_key: hex(c.publicKey),
    node_id: c.nodeId,
  };
}
