import type {WsConnection} from "../connection.js";
import {pongReply, type ClientFrame} from "../frames.js";

/** `{"id", "type": "ping"}` → `{"id", "type": "pong"}`: an application-level round trip (browsers cannot send WS pings). */
export function handlePingFrame(conn: WsConnection, frame: Extract<ClientFrame, {type: "ping"}>): void {
  conn.send(pongReply(frame.id));
}
