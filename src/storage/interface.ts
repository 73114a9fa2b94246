/**
 * The message store contract. SQL lives only behind this interface (src/storage/). Callers speak in
 * accounts, namespaces and hashes; the store knows nothing of RPC, signatures or swarms.
 *
 * Accounts are the 66-char lowercase hex form of (1 prefix byte ‖ 32 key bytes), e.g. "05ab…".
 * Hashes are Session message hashes: 43-char unpadded base64 (see src/crypto/hash.ts).
 * All times are Unix epoch milliseconds.
 *
 * Writes are group-committed: every write method returns a promise that settles only after the
 * transaction holding it has committed, so a reply sent after `await` is never for lost data.
 * Reads are synchronous and see only committed data; rows whose expiry has passed are invisible to
 * reads even before the sweeper removes them.
 */
export interface StoredMessage {
  account: string;
  hash: string;
  namespace: number;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

export interface NewMessage extends StoredMessage {
  /**
   * Public-outbox namespace (Session: ns < 0 && -ns % 20 == 1): storing replaces every other
   * message of this account in this namespace.
   */
  replaceNamespace: boolean;
}

export type StoreStatus = "new" | "extended" | "exists";

export interface StoreResult {
  status: StoreStatus;
  /** The message's expiry after the store: a later pre-existing expiry wins. */
  expiry: number;
  /** A "new" message that opened its mailbox (account + namespace held nothing before). */
  newMailbox?: boolean;
}

export interface RetrieveQuery {
  account: string;
  namespace: number;
  /** Return messages stored after this one (within account+namespace); unknown → from the start. */
  afterHash: string | null;
  /** At most this many messages (≥ 1). */
  maxCount: number;
  /**
   * Stop before the total of `sizeOf(message)` would exceed this; at least one message is always
   * returned when any is available.
   */
  maxSize: number;
  sizeOf: (m: StoredMessage) => number;
}

export interface RetrieveResult {
  messages: StoredMessage[];
  more: boolean;
}

/** Namespace selector for the bulk methods: one namespace, or every namespace of the account. */
export type NamespaceSelector = number | "all";

export interface NamespacedHash {
  namespace: number;
  hash: string;
}

export interface ExpireRequest {
  account: string;
  hashes: string[];
  /** One expiry per hash (already clamped by the caller). */
  expiries: number[];
  /** extend: only raise; shorten: only lower; set: set unconditionally. */
  mode: "extend" | "shorten" | "set";
}

export interface ExpireResult {
  /** Messages whose expiry changed, with the new expiry. */
  updated: Array<{hash: string; expiry: number}>;
  /** Messages found but left unchanged because of the mode, with their current expiry. */
  unchanged: Array<{hash: string; expiry: number}>;
}

export interface StoreStats {
  messageCount: number;
  accountCount: number;
  /** Bytes of the database in use (pages in use × page size). */
  usedBytes: number;
  /** The configured size limit. */
  sizeLimitBytes: number;
  /** The limit in force: min(sizeLimitBytes, what the filesystem can hold beside the reserve and headroom). */
  effectiveSizeLimitBytes: number;
  /** Free bytes on the database's filesystem (absent for an in-memory store). */
  diskFreeBytes?: number;
  /** Bytes the disk reserve file holds now: 0 while released after a full disk (absent in memory). */
  diskReserveBytes?: number;
}

/**
 * A hash that must not come back (replication, migration 0004): `cap` 0 = deleted, otherwise the
 * message must not live past `cap` (its expiry was shortened). Kept until `until`.
 */
export interface Tombstone {
  hash: string;
  /** The message's account (66 lowercase hex). */
  account: string;
  cap: number;
  until: number;
}

/** Hashes that gained or lost a tombstone in one committed write. */
export interface TombstoneChange {
  added: string[];
  removed: string[];
}

/**
 * A subaccount token's revocation state (migrations 0001 and 0007): revoked or unrevoked at
 * `timestamp`, the time of the account's signed request. The later timestamp wins (replication).
 */
export interface RevocationRecord {
  /** 66 lowercase hex. */
  account: string;
  /** The 36-byte subaccount token. */
  token: Buffer;
  revoked: boolean;
  timestamp: number;
}

/**
 * Emitted after commit. `added` carries only messages that did not exist before; `tombstones`
 * reports changes of the tombstone set (not cap or until changes of existing tombstones);
 * `revocations` the accounts whose revocation records changed.
 */
export interface StoreEvents {
  added: (messages: StoredMessage[]) => void;
  removed: (hashes: string[]) => void;
  tombstones: (change: TombstoneChange) => void;
  revocations: (accounts: string[]) => void;
}

export interface MessageStore {
  store(message: NewMessage): Promise<StoreResult>;
  retrieve(query: RetrieveQuery): RetrieveResult;
  /** Deletes the account's messages among `hashes`; returns the deleted hashes, ascii-sorted. */
  deleteByHashes(account: string, hashes: string[]): Promise<string[]>;
  deleteAll(account: string, namespace: NamespaceSelector): Promise<NamespacedHash[]>;
  /** Deletes messages with timestamp ≤ before. */
  deleteBefore(account: string, namespace: NamespaceSelector, before: number): Promise<NamespacedHash[]>;
  /** Lowers the expiry of messages expiring after `expiry` to `expiry`; returns those updated. */
  expireAll(account: string, namespace: NamespaceSelector, expiry: number): Promise<NamespacedHash[]>;
  expire(request: ExpireRequest): Promise<ExpireResult>;
  /** Expiries of the account's (unexpired) messages among `hashes`. */
  getExpiries(account: string, hashes: string[]): Map<string, number>;
  /**
   * `timestamp` is the signed request's (default: now); a token unrevoked at a later time stays
   * unrevoked (last writer wins, docs/PROTOCOL.md (Replication) §5.5).
   */
  revokeSubaccounts(account: string, tokens: Uint8Array[], timestamp?: number): Promise<void>;
  /** Returns how many revocations were removed; a token revoked at a later time stays revoked. */
  unrevokeSubaccounts(account: string, tokens: Uint8Array[], timestamp?: number): Promise<number>;
  isRevoked(account: string, token: Uint8Array): boolean;
  /**
   * True when the effective size limit (the configured one, or less if the disk holds less) is
   * reached: stores fail, reads, deletes, expiry changes and the sweeper still work.
   */
  isFull(): boolean;
  stats(): StoreStats;
  on<E extends keyof StoreEvents>(event: E, listener: StoreEvents[E]): void;
  off<E extends keyof StoreEvents>(event: E, listener: StoreEvents[E]): void;
  close(): Promise<void>;
}
