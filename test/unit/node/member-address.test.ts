import {describe, expect, it} from "vitest";
import {memberAddressCheck} from "../../../src/node/assemble-routing.js";
import type {MembershipService} from "../../../src/swarm/index.js";

/** A membership whose snapshot holds nodes at these hosts (only what the check reads). */
function membershipAt(hosts: string[] | null): {service: MembershipService; set(hosts: string[]): void} {
  let snapshot = hosts === null ? null : {view: {nodes: () => hosts.map((host) => ({host}))}};
  const service = {
    get snapshot() {
      return snapshot;
    },
  } as unknown as MembershipService;
  return {service, set: (h) => (snapshot = {view: {nodes: () => h.map((host) => ({host}))}})};
}

describe("memberAddressCheck", () => {
  it("matches members' IPv4 hosts, also in IPv4-mapped IPv6 form, and nothing else", () => {
    const check = memberAddressCheck(membershipAt(["10.0.0.5", "node.example.org"]).service);
    expect(check("10.0.0.5")).toBe(true);
    expect(check("::ffff:10.0.0.5")).toBe(true);
    expect(check("10.0.0.6")).toBe(false);
    // A host name is never resolved: its address is capped like a client's.
    expect(check("93.184.216.34")).toBe(false);
  });

  it("follows membership changes and is false without a membership or before the first document", () => {
    const m = membershipAt(["10.0.0.5"]);
    const check = memberAddressCheck(m.service);
    expect(check("10.0.0.5")).toBe(true);
    m.set(["10.0.0.7"]);
    expect(check("10.0.0.5")).toBe(false);
    expect(check("10.0.0.7")).toBe(true);
    expect(memberAddressCheck(null)("10.0.0.5")).toBe(false);
    expect(memberAddressCheck(membershipAt(null).service)("10.0.0.5")).toBe(false);
  });
});
