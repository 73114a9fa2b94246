/**
 * Last-writer-wins merging of subaccount revocation records (migration 0007, revocations.ts): the
 * later signed timestamp wins whatever the arrival order, an unrevoke wins a tie, merges respect
 * the 50-per-owner limit, bad records change nothing, and every change is announced.
 */
import {afterEach, describe, expect, it} from "vitest";
import type {RevocationRecord} from "../../../src/storage/interface.js";
import {ACCOUNT_A, ACCOUNT_B, T0, expectCode, storeFor, WRITE_MODES, type TestStore} from "./helpers.js";

const token = (i: number): Buffer => Buffer.from([0x05, 0, 0, 0, ...new Array<number>(32).fill(i)]);
const rec = (i: number, revoked: boolean, timestamp: number, account = ACCOUNT_A): RevocationRecord => ({account, token: token(i), revoked, timestamp});

describe.each(WRITE_MODES)("SqliteRevocations merge (last writer wins) (%s writes)", (mode) => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("converges to the latest record whatever order the records arrive in", async () => {
    const history = [rec(1, true, T0), rec(1, false, T0 + 10), rec(1, true, T0 + 5), rec(2, false, T0), rec(2, true, T0 + 1)];
    const finals: Array<Array<{revoked: boolean; timestamp: number}>> = [];
    for (const order of [history, [...history].reverse(), [history[2]!, history[0]!, history[4]!, history[1]!, history[3]!]]) {
      t = await storeFor(mode);
      for (const r of order) await t.store.revocations.merge([r]);
      expect(t.store.isRevoked(ACCOUNT_A, token(1)), "unrevoked at T0+10 beats revokes at T0 and T0+5").toBe(false);
      expect(t.store.isRevoked(ACCOUNT_A, token(2)), "revoked at T0+1 beats the unrevoke at T0").toBe(true);
      finals.push(t.store.revocations.ofAccount(ACCOUNT_A).map(({revoked, timestamp}) => ({revoked, timestamp})));
      await t.store.close();
    }
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[2]).toEqual(finals[0]);
    t = await storeFor(mode);
  });

  it("a client revoke older than a recorded unrevoke changes nothing; a tie goes to the unrevoke", async () => {
    t = await storeFor(mode);
    expect(await t.store.unrevokeSubaccounts(ACCOUNT_A, [token(1)], T0 + 100)).toBe(0);
    await t.store.revokeSubaccounts(ACCOUNT_A, [token(1)], T0 + 50);
    expect(t.store.isRevoked(ACCOUNT_A, token(1))).toBe(false);
    await t.store.revokeSubaccounts(ACCOUNT_A, [token(1)], T0 + 100);
    expect(t.store.isRevoked(ACCOUNT_A, token(1)), "tie: the unrevoke stays").toBe(false);
    await t.store.revokeSubaccounts(ACCOUNT_A, [token(1)], T0 + 101);
    expect(t.store.isRevoked(ACCOUNT_A, token(1))).toBe(true);
    expect(await t.store.unrevokeSubaccounts(ACCOUNT_A, [token(1)], T0 + 101), "tie: the unrevoke wins").toBe(1);
    expect(t.store.revocations.ofAccount(ACCOUNT_A)).toEqual([rec(1, false, T0 + 101)]);
  });

  it("keeps at most 50 revocations and 50 unrevokes per owner, newest first", async () => {
    t = await storeFor(mode);
    await t.store.revocations.merge(Array.from({length: 60}, (_, i) => rec(i, true, T0 + i)));
    await t.store.revocations.merge(Array.from({length: 60}, (_, i) => rec(100 + i, false, T0 + i)));
    const records = t.store.revocations.ofAccount(ACCOUNT_A);
    expect(records.filter((r) => r.revoked)).toHaveLength(50);
    expect(records.filter((r) => !r.revoked)).toHaveLength(50);
    expect(t.store.isRevoked(ACCOUNT_A, token(9)), "oldest trimmed").toBe(false);
    expect(t.store.isRevoked(ACCOUNT_A, token(10))).toBe(true);
    // A trimmed record offered again is trimmed again: replicas holding the same newest 50 agree.
    expect(await t.store.revocations.merge([rec(0, true, T0)])).toEqual([ACCOUNT_A]);
    expect(t.store.revocations.ofAccount(ACCOUNT_A)).toEqual(records);
  });

  it("announces the accounts whose records changed, and only those", async () => {
    t = await storeFor(mode);
    const seen: string[][] = [];
    t.store.on("revocations", (accounts) => seen.push(accounts));
    await t.store.revocations.merge([rec(1, true, T0), rec(2, true, T0, ACCOUNT_B)]);
    await t.store.revocations.merge([rec(1, true, T0)]); // nothing new
    await t.store.revocations.deleteAccounts([ACCOUNT_B]);
    expect(seen).toEqual([[ACCOUNT_A, ACCOUNT_B], [ACCOUNT_B]]);
    expect(t.store.isRevoked(ACCOUNT_B, token(2))).toBe(false);
  });

  it("refuses malformed records as a whole", async () => {
    t = await storeFor(mode);
    const bad: RevocationRecord[] = [
      {...rec(1, true, T0), token: Buffer.alloc(35)},
      {...rec(1, true, T0), account: "05zz"},
      {...rec(1, true, T0), timestamp: 1.5},
      {...rec(1, true, T0), revoked: 1 as unknown as boolean},
    ];
    for (const r of bad) await expectCode(t.store.revocations.merge([rec(2, true, T0), r]), "STORAGE_ERROR_INVALID_INPUT");
    expect(t.store.revocations.ofAccount(ACCOUNT_A)).toEqual([]);
  });
});
