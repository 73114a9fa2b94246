/**
 * Revocation records on the peer wire and in digests (docs/PROTOCOL.md (Replication) §5.5):
 * the fixed vectors of test/fixtures/replication/revocation-vectors.json (computed with Python's
 * hashlib), strict decoding, the incremental index, and RevocationSync's checks before merging.
 */
import {createHash} from "node:crypto";
import {readFileSync} from "node:fs";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {REVOCATION_MAX_FUTURE_MS, revocationItem} from "../../../src/replication/revocation-records.js";
import {RevocationIndex} from "../../../src/replication/revocation-index.js";
import {RevocationSync} from "../../../src/replication/revocation-sync.js";
import {decodePeerReply, decodePeerRequest, encodePeerMessage, type PeerReply} from "../../../src/replication/wire.js";
import type {SqliteMessageStore} from "../../../src/storage/index.js";
import type {RevocationRecord} from "../../../src/storage/interface.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";

interface VectorRecord {
  account: string;
  token: string;
  revoked: boolean;
  timestamp: number;
  item: string;
}
const vectors = JSON.parse(readFileSync(new URL("../../fixtures/replication/revocation-vectors.json", import.meta.url), "utf8")) as {
  records: VectorRecord[];
  bucket_digests: Record<string, string>;
  empty_bucket_digest: string;
  digest_sha256: string;
};
const records: RevocationRecord[] = vectors.records.map((v) => ({account: v.account, token: Buffer.from(v.token, "hex"), revoked: v.revoked, timestamp: v.timestamp}));
const json = (o: object): Uint8Array => new TextEncoder().encode(JSON.stringify({v: 1, ...o}));
const wireRecord = {account: vectors.records[0]!.account, token: vectors.records[0]!.token, revoked: true, timestamp: 1_700_000_000_000};

describe("revocation records: vectors", () => {
  it("items match the fixture", () => {
    records.forEach((r, i) => expect(Buffer.from(revocationItem(r)).toString("hex"), `record ${i}`).toBe(vectors.records[i]!.item));
  });

  it("the index's digest matches the fixture, bucket by bucket", () => {
    const index = new RevocationIndex();
    const byAccount = new Map<string, RevocationRecord[]>();
    for (const r of records) byAccount.set(r.account, [...(byAccount.get(r.account) ?? []), r]);
    for (const [account, list] of byAccount) index.setAccount(account, list);
    const digest = Buffer.from(index.digest());
    expect(digest).toHaveLength(256 * 8);
    for (let b = 0; b < 256; b++) {
      expect(digest.subarray(b * 8, b * 8 + 8).toString("hex"), `bucket ${b}`).toBe(vectors.bucket_digests[String(b)] ?? vectors.empty_bucket_digest);
    }
    expect(createHash("sha256").update(digest).digest("hex")).toBe(vectors.digest_sha256);
    expect(index.accountsIn(0xab)).toEqual([records[0]!.account, records[2]!.account].sort());
  });

  it("the index follows changes: an account's new state replaces its old one", () => {
    const index = new RevocationIndex();
    const empty = Buffer.from(index.digest());
    index.setAccount(records[0]!.account, [records[0]!]);
    const one = Buffer.from(index.digest());
    expect(one.equals(empty)).toBe(false);
    index.setAccount(records[0]!.account, [records[0]!, records[1]!]);
    expect(index.differing(one)).toEqual([0xab]);
    index.setAccount(records[0]!.account, [records[0]!]);
    expect(index.differing(one)).toEqual([]);
    index.setAccount(records[0]!.account, []);
    expect(Buffer.from(index.digest()).equals(empty)).toBe(true);
    expect(index.accountsIn(0xab)).toEqual([]);
  });
});

describe("revocation peer messages", () => {
  it("round-trip", () => {
    const digest = new Uint8Array(256 * 8).map((_, i) => i % 253);
    expect(decodePeerRequest(encodePeerMessage({type: "push_revocations", records}))).toEqual({type: "push_revocations", records});
    expect(decodePeerRequest(encodePeerMessage({type: "revocation_digest", swarm: "1a"}))).toEqual({type: "revocation_digest", swarm: "1a"});
    expect(decodePeerRequest(encodePeerMessage({type: "revocations", swarm: "0", buckets: [0, 255]}))).toEqual({type: "revocations", swarm: "0", buckets: [0, 255]});
    const replies: PeerReply[] = [
      {type: "push_revocations_ok", accounts: [records[0]!.account]},
      {type: "revocation_digest_ok", digest},
      {type: "revocations_ok", buckets: [1, 171], records},
    ];
    for (const r of replies) expect(decodePeerReply(encodePeerMessage(r)), r.type).toEqual(r);
  });

  it("the JSON form is the documented one", () => {
    const text = Buffer.from(encodePeerMessage({type: "push_revocations", records: [records[0]!]})).toString("utf8");
    expect(JSON.parse(text)).toEqual({v: 1, type: "push_revocations", records: [wireRecord]});
  });

  it("refuses malformed records, sizes and buckets", () => {
    const bad: Array<[object, RegExp]> = [
      [{type: "push_revocations", records: [{...wireRecord, token: wireRecord.token.slice(2)}]}, /72 lowercase hex/],
      [{type: "push_revocations", records: [{...wireRecord, token: `AB${wireRecord.token.slice(2)}`}]}, /72 lowercase hex/],
      [{type: "push_revocations", records: [{...wireRecord, account: "05ab"}]}, /66 lowercase hex/],
      [{type: "push_revocations", records: [{...wireRecord, revoked: "yes"}]}, /boolean/],
      [{type: "push_revocations", records: [{...wireRecord, timestamp: -1}]}, /positive integer/],
      [{type: "push_revocations", records: [{...wireRecord, timestamp: 1e300}]}, /positive integer/],
      [{type: "push_revocations", records: "x"}, /must be an array/],
      [{type: "push_revocations", records: Array.from({length: 10_001}, () => wireRecord)}, /more than 10000/],
      [{type: "revocations", swarm: "0", buckets: [256]}, /0\.\.255/],
      [{type: "revocation_digest", swarm: "not hex"}, /swarm/],
    ];
    for (const [msg, error] of bad) expect(() => decodePeerRequest(json(msg)), JSON.stringify(msg).slice(0, 80)).toThrow(error);
    expect(() => decodePeerReply(json({type: "revocation_digest_ok", digest: Buffer.alloc(4096 * 8).toString("base64")}))).toThrow(/wrong size/);
  });
});

describe("RevocationSync", () => {
  const clock = new ManualClock(1_700_000_000_000);
  let store: SqliteMessageStore;
  let served: (account: string) => boolean;
  const sync = (): RevocationSync =>
    new RevocationSync({
      revocations: store.revocations,
      index: new RevocationIndex(),
      transport: {request: () => Promise.reject(new Error("no network here"))},
      view: {servedBy: () => (a: string) => served(a), ourSwarm: () => 0n},
      clock,
    });
  beforeEach(async () => {
    store = await openTestStore({}, {clock});
    served = () => true;
  });
  afterEach(() => store.close());

  it("merges records of accounts we serve and names them; others are ignored", async () => {
    served = (a) => a === records[0]!.account;
    const now = records.map((r) => ({...r, timestamp: clock.now() - 1_000}));
    expect(await sync().accept(now)).toEqual([records[0]!.account]);
    expect(store.isRevoked(records[0]!.account, records[0]!.token)).toBe(true);
    expect(store.revocations.ofAccount(records[2]!.account)).toEqual([]);
  });

  it("refuses a batch with a record dated too far in the future, and changes nothing", async () => {
    const ok = {...records[0]!, timestamp: clock.now()};
    const late = {...records[2]!, timestamp: clock.now() + REVOCATION_MAX_FUTURE_MS + 1};
    await expect(sync().accept([ok, late])).rejects.toMatchObject({code: "REPLICATION_ERROR_BAD_MESSAGE"});
    expect(store.revocations.ofAccount(ok.account)).toEqual([]);
    expect(await sync().accept([{...late, timestamp: clock.now() + REVOCATION_MAX_FUTURE_MS}])).toEqual([late.account]);
  });

  it("pushes whole accounts, never more than the message limit", async () => {
    const many = (account: string, n: number, base: number): RevocationRecord[] =>
      Array.from({length: n}, (_, i) => ({account, token: Buffer.from([5, 0, 0, 0, ...new Array<number>(32).fill(i)]), revoked: true, timestamp: base + i}));
    const sent: RevocationRecord[][] = [];
    const pusher = new RevocationSync({
      revocations: store.revocations,
      index: new RevocationIndex(),
      transport: {
        request: (_peer, req) => {
          if (req.type !== "push_revocations") throw new Error("unexpected");
          sent.push(req.records);
          return Promise.resolve({type: "push_revocations_ok", accounts: [...new Set(req.records.map((r) => r.account))]});
        },
      },
      view: {servedBy: () => () => true, ourSwarm: () => 0n},
      clock,
    });
    const a = many(`05${"01".repeat(32)}`, 6_000, 1);
    const b = many(`05${"02".repeat(32)}`, 6_000, 1);
    const accepted = await pusher.push("peer", [...a, ...b]);
    expect(sent.map((s) => s.length)).toEqual([6_000, 6_000]);
    expect([...accepted].sort()).toEqual([a[0]!.account, b[0]!.account]);
  });
});
