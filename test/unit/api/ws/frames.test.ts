import {describe, expect, it} from "vitest";
import {errorFrame, messageFrame, parseClientFrame, rpcReply, subscribeReply} from "../../../../src/api/ws/frames.js";

describe("parseClientFrame", () => {
  it("accepts the four frame types with string, integer or no ids", () => {
    expect(parseClientFrame('{"id":"a","type":"rpc","method":"info","params":{}}')).toEqual({ok: true, frame: {type: "rpc", id: "a", method: "info", params: {}}});
    expect(parseClientFrame('{"id":7,"type":"subscribe","params":[{}]}')).toEqual({ok: true, frame: {type: "subscribe", id: 7, params: [{}]}});
    expect(parseClientFrame('{"type":"unsubscribe","params":{"account":"05"}}')).toEqual({ok: true, frame: {type: "unsubscribe", id: undefined, params: {account: "05"}}});
    expect(parseClientFrame('{"type":"ping","extra":1}')).toEqual({ok: true, frame: {type: "ping", id: undefined}});
  });

  it.each([
    ["", "WS_ERROR_BAD_JSON", "invalid json"],
    ["{", "WS_ERROR_BAD_JSON", "invalid json"],
    ["null", "WS_ERROR_BAD_FRAME", "a frame must be a JSON object"],
    ['"rpc"', "WS_ERROR_BAD_FRAME", "a frame must be a JSON object"],
    ['{"type":"rpc","id":1.5}', "WS_ERROR_BAD_FRAME", '"id" must be a string of at most 128 characters or an integer'],
    [JSON.stringify({type: "ping", id: "x".repeat(129)}), "WS_ERROR_BAD_FRAME", '"id" must be a string of at most 128 characters or an integer'],
    ['{"id":1}', "WS_ERROR_BAD_FRAME", "unknown frame type undefined"],
    ['{"id":1,"type":"message"}', "WS_ERROR_BAD_FRAME", 'unknown frame type "message"'],
  ])("refuses %j", (text, code, error) => {
    const r = parseClientFrame(text);
    expect(r).toMatchObject({ok: false, code, error});
  });

  it("keeps a valid id on a frame it refuses, so the error can answer it", () => {
    expect(parseClientFrame('{"id":"q","type":"nope"}')).toMatchObject({ok: false, id: "q"});
  });
});

describe("outbound frames", () => {
  const m = {account: "05" + "ab".repeat(32), hash: "h".repeat(43), namespace: -10, timestamp: 1, expiry: 2, data: Buffer.from("hi")};

  it("message: Session's @ h n t z ~ under readable names; data only when asked", () => {
    expect(JSON.parse(messageFrame(m, true))).toEqual({type: "message", account: m.account, hash: m.hash, namespace: -10, timestamp: 1, expiry: 2, data: "aGk="});
    expect(JSON.parse(messageFrame(m, false))).not.toHaveProperty("data");
  });

  it("omits absent ids and optional fields", () => {
    expect(errorFrame({code: "WS_ERROR_BAD_JSON", error: "invalid json"})).toBe('{"type":"error","code":"WS_ERROR_BAD_JSON","error":"invalid json"}');
    expect(JSON.parse(errorFrame({id: 1, code: "C", errcode: 5, error: "e", reason: "r"}))).toEqual({id: 1, type: "error", code: "C", errcode: 5, error: "e", reason: "r"});
    expect(JSON.parse(rpcReply("x", {status: 400, body: "no method y"}))).toEqual({id: "x", type: "rpc", code: 400, body: "no method y"});
    expect(JSON.parse(subscribeReply(undefined, 5))).toEqual({type: "subscribe", success: true, expires_at: 5});
  });
});
