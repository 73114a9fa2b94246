/**
 * The chaos checker: from the recorded history and the members' final message sets, what held.
 *
 * - lost: an acknowledged store (200: at least one swarm member stored it) of a message no delete
 *   or expire was ever sent for, missing from any member of its swarm after healing;
 * - resurrected: a message whose delete was acknowledged (200), or whose expiry was acknowledged
 *   (200) and has passed, present on any member after healing;
 * - crashes: node exits the devnet did not ask for, beyond the SIGKILLs the schedule sent;
 * - 5xx: any 5xx answer except 507 (full disk, documented), 503 "not ready" from a node that is
 *   (re)loading its membership, and fastify's 503 to requests that arrive while a node closes
 *   gracefully (an operator stop).
 */
import type {NodeStatus} from "../../src/cli/devnet/supervisor.js";

export interface StoreRecord {
  readonly account: string;
  readonly hash: string;
  readonly acked: boolean;
}

export interface ChangeRecord {
  readonly account: string;
  readonly hash: string;
  readonly acked: boolean;
  /** expire only: the new expiry. */
  readonly expiryMs?: number;
}

export interface ResponseRecord {
  readonly method: string;
  readonly node: string;
  readonly status: number;
  /** A 503 that is "not ready" (membership loading) or the 503 of a graceful close. */
  readonly notReady: boolean;
  /** The start of the body of a 5xx, for the report. */
  readonly detail?: string;
}

export interface CheckInput {
  readonly stores: readonly StoreRecord[];
  readonly deletes: readonly ChangeRecord[];
  readonly expires: readonly ChangeRecord[];
  readonly responses: readonly ResponseRecord[];
  /** account → member node name → hashes it returned (null: it did not answer). */
  readonly finalSets: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string> | null>>;
  /**
   * When the read that produced `finalSets` began. An expire counts only if its new expiry passed
   * before then: a message whose shortened expiry falls during or after the read is rightly still
   * returned (the load runs until healing ends and the swarms converge within about a second, so
   * an expire sent at the very end has not expired yet when the members are read).
   */
  readonly finalReadAtMs: number;
  readonly nodes: readonly NodeStatus[];
  /** node name → SIGKILLs the schedule sent it. */
  readonly scheduledKills: ReadonlyMap<string, number>;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export function check(input: CheckInput): Check[] {
  const touched = new Set([...input.deletes, ...input.expires].map((c) => c.hash));
  const holders = (account: string, hash: string): {has: string[]; lacks: string[]} => {
    const has: string[] = [];
    const lacks: string[] = [];
    for (const [node, set] of input.finalSets.get(account) ?? new Map()) (set?.has(hash) === true ? has : lacks).push(node);
    return {has, lacks};
  };

  const checked = input.stores.filter((s) => s.acked && !touched.has(s.hash));
  const lost = checked.flatMap((s) => {
    const {lacks} = holders(s.account, s.hash);
    return lacks.length === 0 ? [] : [`${s.hash} (${s.account.slice(0, 8)}…) missing on ${lacks.join(", ")}`];
  });

  const gone = [
    ...input.deletes.filter((d) => d.acked).map((d) => ({...d, why: "deleted"})),
    ...input.expires
      .filter((e) => e.acked && (e.expiryMs ?? Infinity) < input.finalReadAtMs)
      .map((e) => ({...e, why: `expired ${input.finalReadAtMs - (e.expiryMs as number)} ms before the final read`})),
  ];
  const pending = input.expires.filter((e) => e.acked && (e.expiryMs ?? Infinity) >= input.finalReadAtMs).length;
  const resurrected = gone.flatMap((g) => {
    const {has} = holders(g.account, g.hash);
    return has.length === 0 ? [] : [`${g.hash} (${g.why}) returned by ${has.join(", ")}`];
  });

  const crashes = input.nodes.flatMap((n) => {
    const unexpected = n.exits.filter((e) => e.unexpected);
    const killed = unexpected.filter((e) => e.signal === "SIGKILL").length;
    const extraKills = Math.max(0, killed - (input.scheduledKills.get(n.name) ?? 0));
    const others = unexpected.filter((e) => e.signal !== "SIGKILL").map((e) => `${n.name} exited (code ${e.code}, signal ${e.signal})`);
    return [...others, ...(extraKills > 0 ? [`${n.name}: ${extraKills} SIGKILL(s) not from the schedule`] : [])];
  });

  const bad5xx = new Map<string, number>();
  for (const r of input.responses) {
    if (r.status < 500 || r.status === 507 || (r.status === 503 && r.notReady)) continue;
    const key = `${r.status} ${r.method} on ${r.node}${r.detail === undefined ? "" : ` (${r.detail})`}`;
    bad5xx.set(key, (bad5xx.get(key) ?? 0) + 1);
  }

  const unanswered = [...input.finalSets.values()].flatMap((m) => [...m].filter(([, s]) => s === null).map(([n]) => n));
  return [
    {name: "no acknowledged store lost", ok: lost.length === 0 && unanswered.length === 0, detail: summary(lost, `${checked.length} acknowledged, never deleted or expired, stores checked on every swarm member`, unanswered)},
    {name: "no deleted or expired message resurrected", ok: resurrected.length === 0 && unanswered.length === 0, detail: summary(resurrected, `${gone.length} acknowledged deletes/expiries checked on every swarm member, ${pending} expiries not yet due at the final read left out`, unanswered)},
    {name: "no crash except scheduled kills", ok: crashes.length === 0, detail: crashes.length === 0 ? "every unexpected exit was a scheduled SIGKILL" : crashes.join("; ")},
    {name: "no 5xx except 507 (and 503 while loading or closing)", ok: bad5xx.size === 0, detail: bad5xx.size === 0 ? "none" : [...bad5xx].map(([k, v]) => `${v}× ${k}`).join("; ")},
  ];
}

function summary(problems: readonly string[], what: string, unanswered: readonly string[]): string {
  const silent = unanswered.length === 0 ? "" : `; final read failed on ${[...new Set(unanswered)].join(", ")}`;
  if (problems.length === 0) return `0 (${what})${silent}`;
  const shown = problems.slice(0, 10).join("; ");
  return `${problems.length} (${what}): ${shown}${problems.length > 10 ? "; …" : ""}${silent}`;
}

/** Whether every member of each account's swarm returned the same set; the differing accounts if not. */
export function divergence(finalSets: CheckInput["finalSets"]): string[] {
  const out: string[] = [];
  for (const [account, members] of finalSets) {
    const sets = [...members.values()];
    if (sets.some((s) => s === null)) {
      out.push(`${account.slice(0, 8)}…: a member did not answer`);
      continue;
    }
    const keys = sets.map((s) => [...(s ?? [])].sort().join(","));
    if (new Set(keys).size > 1) out.push(`${account.slice(0, 8)}…: ${[...members].map(([n, s]) => `${n} ${s?.size}`).join(", ")}`);
  }
  return out;
}

/**
 * Did a member's entry of a recursive answer list `hash` under `field` ("deleted" or "updated")?
 * A 200 alone does not say so: a delete or expire of a message no member holds yet (its store
 * still in a retry queue) answers 200 with empty lists and changes nothing, as in Session.
 */
export function anyEntryLists(body: unknown, field: "deleted" | "updated", hash: string): boolean {
  const swarm = (body as {swarm?: unknown} | null)?.swarm;
  if (typeof swarm !== "object" || swarm === null) return false;
  return Object.values(swarm).some((entry) => {
    const list = (entry as Record<string, unknown> | null)?.[field];
    return Array.isArray(list) && list.includes(hash);
  });
}
