import {EventEmitter} from "node:events";
import {describe, expect, it} from "vitest";
import type {PqBackend} from "../../../src/crypto/interface.js";
import {accountFromBytes} from "../../../src/protocol/account.js";
import {SwarmEvent} from "../../../src/swarm/events.js";
import {MEMBERSHIP_UPDATED, MembershipService} from "../../../src/swarm/membership-service.js";
import type {MembershipSource, MembershipSourceEvents} from "../../../src/swarm/membership/source.js";
import {MembershipRouter} from "../../../src/swarm/router.js";
import {ManualClock} from "../../../src/util/clock.js";
import {nobleBackend, signedRecord} from "./helpers.js";

class FakeSource extends EventEmitter<MembershipSourceEvents> implements MembershipSource {
  readonly description = "fake";
  started = false;
  closed = false;
  start(): void {
    this.started = true;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function capturingLogger(): {lines: Array<{level: string; obj: any; msg: string}>} & Record<"debug" | "info" | "warn" | "error", (obj: object, msg?: string) => void> {
  const lines: Array<{level: string; obj: any; msg: string}> = [];
  const at = (level: string) => (obj: object, msg = "") => void lines.push({level, obj, msg});
  return {lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error")};
}

/** The noble backend, counting ML-DSA verifications. */
function countingBackend(): {pq: PqBackend; verifies: () => number} {
  let count = 0;
  const mlDsa65 = {
    ...nobleBackend.mlDsa65,
    verify: (...args: Parameters<PqBackend["mlDsa65"]["verify"]>) => {
      count++;
      return nobleBackend.mlDsa65.verify(...args);
    },
  };
  return {pq: {...nobleBackend, mlDsa65}, verifies: () => count};
}

const doc = (nodes: unknown[]): {text: string; origin: string} => ({text: JSON.stringify({version: 1, network_id: 7070, nodes}), origin: "test"});
const records = Array.from({length: 7}, (_, i) => signedRecord(i));
const ourId = records[0]!.nodeId;

function setup(ourNodeId = ourId) {
  const source = new FakeSource();
  const logger = capturingLogger();
  const {pq, verifies} = countingBackend();
  const service = new MembershipService({networkId: 7070, mode: "balanced", ourNodeId}, {source, pq, clock: new ManualClock(1_767_225_600_000), logger});
  const router = new MembershipRouter({membership: service});
  return {source, logger, verifies, service, router};
}

describe("MembershipService", () => {
  it("is not ready until the first document, then builds the view and emits every event in order", () => {
    const {source, service, router, logger} = setup();
    const seen: string[] = [];
    for (const e of Object.values(SwarmEvent)) service.on(e, () => void seen.push(e));
    let updated = 0;
    service.on(MEMBERSHIP_UPDATED, () => void updated++);
    service.start();
    expect(source.started).toBe(true);
    expect(router.notReadyReasons()).toEqual(["membership not loaded"]);
    source.emit("document", doc(records.slice(0, 6)));
    expect(router.notReadyReasons()).toEqual([]);
    expect(service.snapshot?.view.swarmCount).toBe(2);
    expect(seen).toEqual([
      SwarmEvent.SwarmCountChanged,
      ...Array(6).fill(SwarmEvent.NodeJoined),
      SwarmEvent.OurSwarmChanged,
      SwarmEvent.OurSwarmPeersChanged,
    ]);
    expect(updated).toBe(1);
    expect(logger.lines.filter((l) => l.msg === "swarm event")).toHaveLength(seen.length);
    expect(logger.lines.find((l) => l.msg === "membership loaded")?.obj).toMatchObject({nodes: 6, swarmCount: 2, rejected: 0});
  });

  it("re-verifies only new or changed records", () => {
    const {service, verifies} = setup();
    service.apply(doc(records.slice(0, 6)));
    expect(verifies()).toBe(6);
    const joined: string[] = [];
    service.on(SwarmEvent.NodeJoined, (d) => void joined.push(d.nodeId));
    expect(service.apply(doc(records))).toEqual({applied: true});
    expect(verifies()).toBe(7);
    expect(joined).toEqual([records[6]!.nodeId]);
  });

  it("logs and drops bad records, keeps the rest", () => {
    const {service, logger} = setup();
    const forged = {...records[5]!, port: 1};
    service.apply(doc([...records.slice(0, 5), forged]));
    expect(service.snapshot?.view.nodeCount).toBe(5);
    expect(service.snapshot?.rejected).toEqual([expect.objectContaining({index: 5, code: "NODE_RECORD_ERROR_BAD_SIGNATURE"})]);
    const warn = logger.lines.find((l) => l.msg === "node record rejected");
    expect(warn).toMatchObject({level: "warn", obj: {index: 5, nodeId: forged.nodeId, code: "NODE_RECORD_ERROR_BAD_SIGNATURE"}});
  });

  it("keeps the previous view for a broken document or one without a valid record", () => {
    const {service, logger} = setup();
    service.apply(doc(records.slice(0, 6)));
    const before = service.snapshot;
    expect(service.apply({text: "{", origin: "x"})).toMatchObject({applied: false});
    expect(service.apply(doc([{...records[1]!, port: 2}]))).toEqual({applied: false, reason: "no valid record"});
    expect(service.apply({text: JSON.stringify({version: 1, network_id: 7071, nodes: []}), origin: "x"})).toMatchObject({applied: false});
    expect(service.snapshot).toBe(before);
    expect(logger.lines.filter((l) => l.msg.includes("keeping the previous view")).map((l) => l.level)).toEqual(["warn", "error", "warn"]);
  });

  it("logs a repeated source failure once at warn", () => {
    const {source, service, logger} = setup();
    service.start();
    for (let i = 0; i < 3; i++) source.emit("failure", {origin: "o", reason: "HTTP 500"});
    source.emit("failure", {origin: "o", reason: "timeout"});
    expect(logger.lines.filter((l) => l.msg.startsWith("membership source failed")).map((l) => l.level)).toEqual(["warn", "debug", "debug", "warn"]);
  });

  it("closes its source", async () => {
    const {source, service} = setup();
    await service.close();
    expect(source.closed).toBe(true);
  });
});

describe("MembershipRouter", () => {
  const account = (i: number) => accountFromBytes(Buffer.from(`05${i.toString(16).padStart(64, "0")}`, "hex"));

  it("is not ready while our node is not in the membership", () => {
    const {service, router} = setup("ab".repeat(32));
    service.apply(doc(records));
    expect(router.notReadyReasons()).toEqual(["not in any swarm"]);
    expect(router.isOurs(account(1))).toBe(false);
  });

  it("serves exactly the accounts of our swarm and names the right members otherwise", () => {
    const {service, router} = setup();
    service.apply(doc(records));
    const snapshot = service.snapshot!;
    let ours = 0;
    for (let i = 0; i < 100; i++) {
      const acc = account(i);
      const swarmId = snapshot.view.swarmForAccount(acc.hex);
      const json = router.swarmFor(acc);
      expect(json.swarm).toBe(swarmId.toString(16));
      expect(json.snodes.map((s) => s.node_id)).toEqual(snapshot.view.membersOf(swarmId).map((r) => r.nodeId));
      expect(router.isOurs(acc)).toBe(swarmId === snapshot.ourSwarm);
      if (router.isOurs(acc)) ours++;
    }
    expect(ours).toBeGreaterThan(0);
    expect(ours).toBeLessThan(100);
  });

  it("answers get_swarm with no swarm before the membership is loaded", async () => {
    const {router} = setup();
    expect(router.swarmFor(account(1))).toEqual({snodes: [], swarm: "ffffffffffffffff"});
    expect(await router.forward("store", {})).toEqual({});
  });
});
