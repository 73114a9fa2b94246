import type {WsConnection} from "../connection.js";
import type {WsContext} from "../context.js";
import {MONITOR_ERRCODE, MonitorError} from "../errors.js";
import {errorFrame, subscribeListReply, subscribeReply, type ClientFrame, type SubscribeResult} from "../frames.js";
import {authorizeMonitor, sessionAccountOf} from "../monitor-auth.js";
import {parseMonitorParams} from "../monitor-params.js";

type SubscribeFrame = Extract<ClientFrame, {type: "subscribe"}>;

/**
 * `{"id", "type": "subscribe", "params": {…} | [{…}, …]}`: Session's monitor request, one object
 * or a list (each entry answered in order, Session's batch form). Every list entry after the first
 * takes one more rate-limit token: each may cost a signature verification.
 */
export function handleSubscribeFrame(ctx: WsContext, conn: WsConnection, frame: SubscribeFrame): void {
  const now = ctx.modules.clock.now();
  if (!Array.isArray(frame.params)) {
    const r = subscribeOne(ctx, conn, frame.params, now);
    if ("expires_at" in r) conn.send(subscribeReply(frame.id, r.expires_at));
    else conn.send(errorFrame({id: frame.id, ...r}));
    return;
  }
  const list = frame.params as unknown[];
  const max = ctx.opts.maxSubscriptionsPerConnection;
  if (list.length === 0 || list.length > max) {
    const err = new MonitorError(MONITOR_ERRCODE.BAD_ARGS, `Invalid arguments: a subscription list holds 1 to ${max} entries`);
    conn.send(errorFrame({id: frame.id, code: err.code, errcode: err.errcode, error: err.message}));
    return;
  }
  const results = list.map((params, i): SubscribeResult => {
    if (i > 0 && !ctx.allow(conn.ip)) return {code: "WS_ERROR_RATE_LIMITED", error: "Too Many Requests"};
    return subscribeOne(ctx, conn, params, now);
  });
  conn.send(subscribeListReply(frame.id, results));
}

function subscribeOne(ctx: WsContext, conn: WsConnection, params: unknown, now: number): SubscribeResult {
  try {
    const req = parseMonitorParams(params, ctx.opts, now, sessionAccountOf);
    const grant = authorizeMonitor(req, ctx.modules);
    const added = ctx.index.add(conn, grant, now);
    if (added.ok) return {success: true, expires_at: added.expiresAt};
    throw added.reason === "too_many_subscriptions"
      ? new MonitorError(
          MONITOR_ERRCODE.TOO_MANY_SUBSCRIPTIONS,
          `Too many subscriptions: at most ${ctx.opts.maxSubscriptionsPerConnection} accounts per connection`,
        )
      : new MonitorError(
          MONITOR_ERRCODE.BAD_NS,
          `Invalid n= namespace list: at most ${ctx.opts.maxNamespacesPerSubscription} namespaces per subscription`,
        );
  } catch (err) {
    if (!(err instanceof MonitorError)) throw err;
    return {errcode: err.errcode, code: err.code, error: err.message};
  }
}
