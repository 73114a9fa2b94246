import fastifyWebsocket from "@fastify/websocket";
import type {FastifyInstance} from "fastify";
import type {WsHandle, WsModules} from "./interface.js";
import type {WsOptions} from "./options.js";
import {WsServer} from "./server.js";

/** The route the endpoint serves. */
export const WS_PATH = "/ws";

/**
 * Adds GET /ws (WebSocket: RPC frames, subscriptions and pushes; docs/PROTOCOL.md (WebSocket))
 * to `app`, which must not be listening yet. @fastify/websocket is registered inside its own
 * encapsulated context, so the app's other routes and hooks are untouched. On `app.close()` every
 * connection is closed with 1001 before the HTTP server stops.
 */
export function registerWebSocket(app: FastifyInstance, opts: WsOptions, modules: WsModules): WsHandle {
  const server = new WsServer(opts, modules);
  void app.register(async (child) => {
    await child.register(fastifyWebsocket, {
      options: {maxPayload: opts.maxInboundFrameBytes, perMessageDeflate: false, clientTracking: false},
      preClose: () => server.close(),
      errorHandler: (err, socket) => server.onSocketError(err, socket),
    });
    child.get(WS_PATH, {websocket: true}, (socket, req) => server.accept(socket, req.ip));
  });
  return server.handle;
}
