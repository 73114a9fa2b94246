import {describe, expect, it} from "vitest";
import {
  FEE_STRUCTURE,
  RETRIEVE_FEE,
  SESSION_CLOSE_FEE,
  SESSION_CREATE_FEE,
  STORAGE_FEE_PER_KB,
  billableKilobytes,
  formatPars,
  quoteStore,
  storageFee,
} from "../../../src/economics/index.js";
import {INVALID, P} from "./helpers.js";

describe("economics/fees: §6.1 Fee Structure", () => {
  it("reproduces the table", () => {
    expect(SESSION_CREATE_FEE).toBe(P("0.001"));
    expect(STORAGE_FEE_PER_KB).toBe(P("0.0001"));
    expect(RETRIEVE_FEE).toBe(0n);
    expect(SESSION_CLOSE_FEE).toBe(0n);
    expect(FEE_STRUCTURE).toEqual({
      sessionCreate: 10n ** 15n,
      messageStorePerKb: 10n ** 14n,
      messageRetrieve: 0n,
      sessionClose: 0n,
    });
  });

  it("bills whole KB of 1,024 bytes, rounding partial KB up", () => {
    expect(billableKilobytes(0)).toBe(0n);
    expect(billableKilobytes(1)).toBe(1n);
    expect(billableKilobytes(1023)).toBe(1n);
    expect(billableKilobytes(1024)).toBe(1n);
    expect(billableKilobytes(1025)).toBe(2n);
    expect(billableKilobytes(76_800)).toBe(75n);
    expect(() => billableKilobytes(-1)).toThrow(INVALID);
    expect(() => billableKilobytes(1.5)).toThrow(INVALID);
  });

  it("storage fee = KB × 0.0001 PARS × multiplier", () => {
    expect(storageFee(1024)).toBe(P("0.0001"));
    expect(storageFee(1025)).toBe(P("0.0002"));
    expect(storageFee(10 * 1024, 5n)).toBe(P("0.005"));
    expect(formatPars(storageFee(76_800, 50n))).toBe("0.375");
    expect(() => storageFee(1, 0n)).toThrow(INVALID);
  });

  it("quotes a first store into a new mailbox at low utilization", () => {
    expect(quoteStore({dataBytes: 2048, newMailbox: true, storageUsed: 10, storageCapacity: 150})).toEqual({
      kilobytes: 2n,
      baseFee: P("0.0002"),
      multiplier: 1n,
      storageFee: P("0.0002"),
      sessionCreateFee: P("0.001"),
      total: P("0.0012"),
    });
  });

  it("applies the scarcity multiplier to storage only, never to Session Create", () => {
    const quote = quoteStore({dataBytes: 100, newMailbox: true, utilizationPct: 95});
    expect(quote.multiplier).toBe(50n);
    expect(quote.storageFee).toBe(P("0.005"));
    expect(quote.sessionCreateFee).toBe(P("0.001"));
    expect(quote.total).toBe(P("0.006"));
  });

  it("charges no Session Create fee for an existing mailbox", () => {
    const quote = quoteStore({dataBytes: 1, newMailbox: false, utilizationPct: 70});
    expect(quote).toMatchObject({kilobytes: 1n, baseFee: P("0.0001"), multiplier: 5n, sessionCreateFee: 0n});
    expect(quote.total).toBe(P("0.0005"));
  });

  it("takes utilization one way only", () => {
    const both = {dataBytes: 1, newMailbox: false, utilizationPct: 10, storageUsed: 1, storageCapacity: 10};
    expect(() => quoteStore(both)).toThrow(INVALID);
    expect(() => quoteStore({dataBytes: 1, newMailbox: false} as never)).toThrow(INVALID);
  });
});
