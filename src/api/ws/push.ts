import type {StoredMessage} from "../../storage/index.js";
import type {WsConnection} from "./connection.js";
import type {WsContext} from "./context.js";
import {messageFrame, subscriptionEndedFrame} from "./frames.js";

/**
 * The store's `added` listener: every message that is genuinely new (client store, replication or
 * catch-up alike) goes to each live subscription of its account that covers its namespace. A frame
 * is serialised at most twice per message (with and without data), whatever the subscriber count.
 */
export function pushMessages(ctx: WsContext, messages: readonly StoredMessage[]): void {
  const now = ctx.modules.clock.now();
  for (const m of messages) {
    const subscribers = ctx.index.subscribersOf(m.account);
    if (subscribers !== undefined) pushOne(ctx, m, subscribers, now);
  }
}

function pushOne(ctx: WsContext, m: StoredMessage, subscribers: ReadonlySet<WsConnection>, now: number): void {
  let plain: string | undefined;
  let withData: string | undefined;
  const revoked: WsConnection[] = [];
  for (const conn of subscribers) {
    const sub = conn.subscriptions.get(m.account);
    // Session: delivered while expiry >= now, to subscriptions covering the namespace.
    if (sub === undefined || sub.expiresAt < now || !sub.namespaces.has(m.namespace)) continue;
    if (!sub.keyAuthorized && sub.token !== null && ctx.modules.store.isRevoked(m.account, sub.token)) {
      revoked.push(conn);
      continue;
    }
    const frame = sub.wantData ? (withData ??= messageFrame(m, true)) : (plain ??= messageFrame(m, false));
    if (conn.send(frame)) ctx.counters.pushes += 1;
  }
  for (const conn of revoked) {
    ctx.index.remove(conn, m.account);
    conn.send(subscriptionEndedFrame(m.account, "revoked"));
  }
}
