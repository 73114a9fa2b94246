/**
 * A small reader of the Prometheus text format (what GET /metrics answers), for tests: the
 * families a scrape declares (`# TYPE`) and the value of every sample.
 */
import {request} from "undici";

export interface Scrape {
  /** Family name → type (counter, gauge, histogram, summary). */
  readonly types: Map<string, string>;
  /** `name{labels}` exactly as written → value. */
  readonly samples: Map<string, number>;
}

export function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1]!, type[2]!);
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return {types, samples};
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await request(url);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${text}`);
  if (!String(res.headers["content-type"]).startsWith("text/plain")) throw new Error(`GET ${url}: content-type ${String(res.headers["content-type"])}`);
  return parseExposition(text);
}

/**
 * A family's total: the sum of its samples (a counter's or gauge's series), or for a histogram
 * the sum of its `_count` series (observations). 0 when it has no sample yet.
 */
export function familyTotal(s: Scrape, family: string): number {
  const histogram = s.types.get(family) === "histogram";
  let total = 0;
  for (const [key, value] of s.samples) {
    const name = key.split("{")[0];
    if (histogram ? name === `${family}_count` : name === family) total += value;
  }
  return total;
}
