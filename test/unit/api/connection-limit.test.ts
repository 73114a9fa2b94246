import {EventEmitter} from "node:events";
import type {Server} from "node:http";
import type {Socket} from "node:net";
import {describe, expect, it} from "vitest";
import {ConnectionLimit, isLoopback} from "../../../src/api/http/connection-limit.js";

function fakeSocket(ip: string): Socket & {destroyedByLimit: boolean} {
  const s = Object.assign(new EventEmitter(), {remoteAddress: ip, destroyedByLimit: false});
  return Object.assign(s, {destroy: () => ((s.destroyedByLimit = true), s)}) as unknown as Socket & {destroyedByLimit: boolean};
}

describe("ConnectionLimit", () => {
  it("destroys connections over the per-IP cap and counts closes", () => {
    const server = new EventEmitter() as unknown as Server;
    const limit = new ConnectionLimit(2);
    limit.attach(server);
    const [a, b, c] = [fakeSocket("10.0.0.1"), fakeSocket("10.0.0.1"), fakeSocket("10.0.0.1")];
    for (const s of [a, b, c]) server.emit("connection", s);
    expect([a.destroyedByLimit, b.destroyedByLimit, c.destroyedByLimit]).toEqual([false, false, true]);
    expect(limit.refused).toBe(1);
    a.emit("close");
    const d = fakeSocket("10.0.0.1");
    server.emit("connection", d);
    expect(d.destroyedByLimit).toBe(false);
    expect(limit.open).toBe(2);
  });

  it("leaves exempt addresses (the node exempts loopback) uncounted", () => {
    const server = new EventEmitter() as unknown as Server;
    new ConnectionLimit(1, isLoopback).attach(server);
    const socks = Array.from({length: 5}, () => fakeSocket("127.0.0.1"));
    for (const s of socks) server.emit("connection", s);
    expect(socks.some((s) => s.destroyedByLimit)).toBe(false);
    expect(["127.0.0.1", "127.5.5.5", "::1", "::ffff:127.0.0.1"].every(isLoopback)).toBe(true);
    expect(["10.0.0.1", "::ffff:10.0.0.1", "1.127.0.0", "::2"].some(isLoopback)).toBe(false);
  });
});
