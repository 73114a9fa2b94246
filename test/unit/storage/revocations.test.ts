import {afterEach, describe, expect, it} from "vitest";
import {ACCOUNT_A, ACCOUNT_B, expectCode, storeFor, WRITE_MODES, type TestStore} from "./helpers.js";

const token = (i: number): Uint8Array => Uint8Array.from([0xf0, i >> 8, i & 0xff, ...new Array<number>(33).fill(i % 256)]);

describe.each(WRITE_MODES)("SqliteMessageStore subaccount revocations (%s writes)", (mode) => {
  let t: TestStore;
  afterEach(async () => t.store.close());

  it("revokes, checks per account, unrevokes with a count", async () => {
    t = await storeFor(mode);
    expect(t.store.isRevoked(ACCOUNT_A, token(1))).toBe(false);
    await t.store.revokeSubaccounts(ACCOUNT_A, [token(1), token(2)]);
    expect(t.store.isRevoked(ACCOUNT_A, token(1))).toBe(true);
    expect(t.store.isRevoked(ACCOUNT_A, Buffer.from(token(2)))).toBe(true);
    expect(t.store.isRevoked(ACCOUNT_B, token(1))).toBe(false);
    expect(await t.store.unrevokeSubaccounts(ACCOUNT_A, [token(1), token(3)])).toBe(1);
    expect(t.store.isRevoked(ACCOUNT_A, token(1))).toBe(false);
    expect(t.store.isRevoked(ACCOUNT_A, token(2))).toBe(true);
    expect(await t.store.unrevokeSubaccounts(ACCOUNT_B, [token(2)])).toBe(0);
  });

  it("works for an account with no messages (no NULL-owner rows as in Session)", async () => {
    t = await storeFor(mode);
    await t.store.revokeSubaccounts(ACCOUNT_B, [token(9)]);
    expect(t.store.isRevoked(ACCOUNT_B, token(9))).toBe(true);
    const nullOwners = t.store.db.sqlite.prepare("SELECT count(*) AS n FROM revoked_subaccounts WHERE owner IS NULL");
    expect(nullOwners.get()).toEqual({n: 0});
  });

  it("keeps only the newest 50 per account; re-revoking refreshes a token", async () => {
    t = await storeFor(mode);
    for (let i = 0; i < 50; i++) {
      await t.store.revokeSubaccounts(ACCOUNT_A, [token(i)]);
      t.clock.advance(1);
    }
    await t.store.revokeSubaccounts(ACCOUNT_A, [token(0)]); // refresh the oldest
    t.clock.advance(1);
    await t.store.revokeSubaccounts(ACCOUNT_A, [token(50), token(51)]); // same timestamp: insertion order
    await t.store.revokeSubaccounts(ACCOUNT_B, [token(0)]);
    const revoked = Array.from({length: 52}, (_, i) => t.store.isRevoked(ACCOUNT_A, token(i)));
    expect(revoked.filter(Boolean)).toHaveLength(50);
    expect(revoked[0], "refreshed token survives").toBe(true);
    expect(revoked[1], "oldest trimmed").toBe(false);
    expect(revoked[2], "second oldest trimmed").toBe(false);
    expect(revoked[51]).toBe(true);
    expect(t.store.isRevoked(ACCOUNT_B, token(0))).toBe(true);
  });

  it("a batch of more than 50 keeps the last 50 of the batch", async () => {
    t = await storeFor(mode);
    await t.store.revokeSubaccounts(ACCOUNT_A, Array.from({length: 60}, (_, i) => token(i)));
    expect(t.store.isRevoked(ACCOUNT_A, token(9))).toBe(false);
    expect(t.store.isRevoked(ACCOUNT_A, token(10))).toBe(true);
    expect(t.store.isRevoked(ACCOUNT_A, token(59))).toBe(true);
  });

  it("validates tokens", async () => {
    t = await storeFor(mode);
    await expectCode(t.store.revokeSubaccounts(ACCOUNT_A, [new Uint8Array(0)]), "STORAGE_ERROR_INVALID_INPUT");
    await expectCode(t.store.revokeSubaccounts(ACCOUNT_A, ["x" as unknown as Uint8Array]), "STORAGE_ERROR_INVALID_INPUT");
    await t.store.revokeSubaccounts(ACCOUNT_A, []);
    expect(t.store.db.sqlite.prepare("SELECT count(*) AS n FROM owners").get()).toEqual({n: 0});
  });
});
