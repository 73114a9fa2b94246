/**
 * The size-capped response reader: a peer cannot make us buffer more than the caller expects of
 * an answer (a ~15 KB proof answer, a frame), because the body is destroyed as soon as it passes
 * the cap instead of after it was read whole.
 */
import type {Dispatcher} from "undici";

/** The code the retry policy classifies as PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE (undici's own, for its pool-wide cap). */
export const RESPONSE_TOO_LARGE_CODE = "UND_ERR_RES_EXCEEDED_MAX_SIZE";

/** The body as bytes; rejects with an error coded RESPONSE_TOO_LARGE_CODE once it exceeds `maxBytes`. */
export async function readCappedBody(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw Object.assign(new Error(`response larger than ${maxBytes} bytes`), {code: RESPONSE_TOO_LARGE_CODE});
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
