import {describe, expect, it} from "vitest";
import {
  classifyFailure,
  defaultPeerRetryPolicy,
  errorCode,
  retryAfterMs,
  retryDelayMs,
  shouldRetryFailure,
  shouldRetryStatus,
} from "../../../src/peer/peer-retry.js";

const withCode = (code: string): Error => Object.assign(new Error(code), {code});

describe("peer retry policy", () => {
  it("backs off exponentially with equal jitter, capped", () => {
    const p = defaultPeerRetryPolicy; // 200 ms × 2^n, cap 2 s
    expect([1, 2, 3, 4, 5, 10].map((n) => retryDelayMs(p, n, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5, 10].map((n) => retryDelayMs(p, n, () => 0.999999))).toEqual([200, 400, 800, 1600, 2000, 2000]);
  });

  it("parses Retry-After seconds and dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs(["0"], now)).toBe(0);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:02 GMT", now)).toBe(2000);
    expect(retryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeNull();
    expect(retryAfterMs("soon", now)).toBeNull();
  });

  it("retries statuses: 429/503 always, 502/504 only idempotent, nothing else", () => {
    for (const status of [429, 503]) expect(shouldRetryStatus(status, false), `${status}`).toBe(true);
    for (const status of [502, 504]) {
      expect(shouldRetryStatus(status, false), `${status}`).toBe(false);
      expect(shouldRetryStatus(status, true), `${status}`).toBe(true);
    }
    for (const status of [200, 204, 400, 401, 403, 404, 409, 413, 421, 500, 501]) {
      expect(shouldRetryStatus(status, true), `${status}`).toBe(false);
    }
  });

  it("classifies failures: what was sent decides whether a non-idempotent request is retried", () => {
    const table: Array<[string, string, boolean, boolean]> = [
      // undici/Node code, our code, retried if non-idempotent, retried if idempotent
      ["ECONNREFUSED", "PEER_CLIENT_ERROR_CONNECT", true, true],
      ["UND_ERR_CONNECT_TIMEOUT", "PEER_CLIENT_ERROR_CONNECT", true, true],
      ["EHOSTUNREACH", "PEER_CLIENT_ERROR_CONNECT", true, true],
      ["ENOTFOUND", "PEER_CLIENT_ERROR_CONNECT", false, false],
      ["UND_ERR_HEADERS_TIMEOUT", "PEER_CLIENT_ERROR_TIMEOUT", false, true],
      ["UND_ERR_BODY_TIMEOUT", "PEER_CLIENT_ERROR_TIMEOUT", false, true],
      ["ECONNRESET", "PEER_CLIENT_ERROR_SOCKET", false, true],
      ["UND_ERR_SOCKET", "PEER_CLIENT_ERROR_SOCKET", false, true],
      ["UND_ERR_RES_EXCEEDED_MAX_SIZE", "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE", false, false],
      ["UND_ERR_CLOSED", "PEER_CLIENT_ERROR_CLOSED", false, false],
      ["HPE_INVALID_CONSTANT", "PEER_CLIENT_ERROR_PROTOCOL", false, false],
    ];
    for (const [code, ours, plain, idempotent] of table) {
      const f = classifyFailure(withCode(code), false);
      expect(f.code, code).toBe(ours);
      expect(shouldRetryFailure(f, false), `${code} non-idempotent`).toBe(plain);
      expect(shouldRetryFailure(f, true), `${code} idempotent`).toBe(idempotent);
    }
    expect(classifyFailure(withCode("ECONNREFUSED"), true).code).toBe("PEER_CLIENT_ERROR_ABORTED");
  });

  it("finds codes inside AggregateError and cause", () => {
    expect(errorCode(new AggregateError([withCode("ECONNREFUSED")]))).toBe("ECONNREFUSED");
    expect(errorCode(new Error("wrapped", {cause: withCode("EPIPE")}))).toBe("EPIPE");
    expect(errorCode("nope")).toBeNull();
  });
});
