/**
 * The devnet's files: one data directory per node (key file and config.json) and one shared,
 * signed static membership document.
 *
 *   <base>/membership.json      {"version": 1, "network_id": 7072, "nodes": [<record>, …]}
 *   <base>/node-<i>/config.json every node option devnet owns, plus non-default options given to devnet
 *   <base>/node-<i>/staking/{pq-identity.key,signer.key}, db/, node.log
 *
 * Keys are reused when the directories exist, so a devnet can be restarted on the same base dir.
 */
import {randomBytes} from "node:crypto";
import {mkdir, rename, rm, writeFile} from "node:fs/promises";
import path from "node:path";
import {CONFIG_LEAVES, NETWORK_IDS, dataPaths, defaultConfig, type ParsStorageConfig} from "../../config/index.js";
import {getPath, setPath, type PlainObject} from "../../config/index.js";
import {loadOrCreateNodeKeys, type BlsKeyPair, type NodeIdentity} from "../../crypto/index.js";
import type {PqBackend} from "../../crypto/index.js";
import {STAKING_REQUIREMENT} from "../../economics/index.js";
import {REGISTRY_DOCUMENT_VERSION} from "../../swarm/index.js";
import type {NodeRecordJson} from "../../swarm/index.js";
import {loadNodeTls} from "../../node/index.js";
import {configuredRecord} from "../own-record.js";
import {isDevnetOwned, type DevnetEndpoint} from "./options.js";

export const DEVNET_NETWORK = "devnet";
export const DEVNET_NETWORK_ID = NETWORK_IDS.devnet;
export const MEMBERSHIP_FILE_NAME = "membership.json";
export const NODE_LOG_FILE_NAME = "node.log";
/** Devnet nodes check the membership file this often (besides fs.watch). */
const DEVNET_MEMBERSHIP_CHECK_MS = 1_000;

export interface DevnetNode {
  /** `node-1` … `node-N`. */
  readonly name: string;
  readonly dir: string;
  /** With the node's BLS key (`staking/signer.key`), which its record publishes. */
  readonly identity: NodeIdentity & {readonly bls: BlsKeyPair};
}

export interface DevnetLayout {
  readonly baseDir: string;
  readonly membershipFile: string;
  readonly mode: ParsStorageConfig["swarm"]["mode"];
  readonly nodes: readonly DevnetNode[];
}

/** Creates (or reuses) the node directories and identities; `onNode(i)` after the i-th (progress). */
export async function prepareLayout(
  baseDir: string,
  count: number,
  mode: DevnetLayout["mode"],
  backend: PqBackend,
  onNode: (done: number) => void = () => undefined,
): Promise<DevnetLayout> {
  const base = path.resolve(baseDir);
  await mkdir(base, {recursive: true, mode: 0o700});
  const nodes: DevnetNode[] = [];
  for (let i = 1; i <= count; i++) {
    const dir = path.join(base, `node-${i}`);
    const paths = dataPaths({dataDir: dir});
    const {identity, bls} = await loadOrCreateNodeKeys({identityFile: paths.keyFile, signerKeyFile: paths.signerKeyFile}, backend);
    nodes.push({name: `node-${i}`, dir, identity: {...identity, bls}});
    onNode(i);
  }
  return {baseDir: base, membershipFile: path.join(base, MEMBERSHIP_FILE_NAME), mode, nodes};
}

/** Valid PIP-0008 stake for a devnet node: 15,000 PARS from an operator address derived from its ID. */
export function devnetStake(nodeId: string): ParsStorageConfig["node"]["stake"] {
  return {operator: {address: `0x${nodeId.slice(0, 40)}`, amount: STAKING_REQUIREMENT.toString(10)}, contributors: []};
}

/** The node's full configuration as its `start` will load it (for records and config.json). */
export function nodeConfig(
  layout: DevnetLayout,
  node: DevnetNode,
  endpoint: DevnetEndpoint & {bind: string},
  base: ParsStorageConfig,
): ParsStorageConfig {
  return {
    ...base,
    network: DEVNET_NETWORK,
    networkId: DEVNET_NETWORK_ID,
    dataDir: node.dir,
    http: {...base.http, bind: endpoint.bind, port: endpoint.port},
    swarm: {mode: layout.mode},
    membership: {...base.membership, source: "static", file: layout.membershipFile, pollIntervalMs: DEVNET_MEMBERSHIP_CHECK_MS},
    node: {publicHost: endpoint.host, stake: devnetStake(node.identity.nodeId)},
  };
}

/** Writes `<dir>/config.json`: the options devnet owns plus every non-default one of `config`. */
export async function writeNodeConfig(config: ParsStorageConfig): Promise<void> {
  const defaults = defaultConfig() as unknown as PlainObject;
  const full = config as unknown as PlainObject;
  const out: PlainObject = {};
  for (const leaf of CONFIG_LEAVES) {
    const value = getPath(full, leaf.segments);
    const differs = JSON.stringify(value) !== JSON.stringify(getPath(defaults, leaf.segments));
    if (isDevnetOwned(leaf.path) || differs) setPath(out, leaf.segments, value);
  }
  await writeAtomically(dataPaths(config).configFile, `${JSON.stringify(out, null, 2)}\n`);
}

/**
 * The signed membership document for the nodes at their final addresses; `tlsPins[i]` is node i's
 * TLS pin (`nodeTlsPins`), null or absent for plain HTTP.
 */
export function membershipDocument(
  configs: readonly ParsStorageConfig[],
  identities: readonly (NodeIdentity & {readonly bls?: BlsKeyPair})[],
  backend: PqBackend,
  nowMs: number,
  tlsPins: readonly (string | null)[] = [],
): {version: number; network_id: number; nodes: NodeRecordJson[]} {
  const nodes = configs.map((config, i) => {
    const identity = identities[i];
    if (identity === undefined) throw new Error("one identity per node config");
    return configuredRecord(config, identity, backend, nowMs, {tlsSpkiSha256: tlsPins[i] ?? null, bls: identity.bls ?? null});
  });
  return {version: REGISTRY_DOCUMENT_VERSION, network_id: DEVNET_NETWORK_ID, nodes};
}

/** Each node's TLS pin (null without `http.tls`); "auto" creates the key and certificate in its data dir now. */
export async function nodeTlsPins(configs: readonly ParsStorageConfig[]): Promise<Array<string | null>> {
  const pins: Array<string | null> = [];
  for (const config of configs) pins.push((await loadNodeTls(config))?.spkiSha256 ?? null);
  return pins;
}

/** Node URL: https when the node has a TLS pin. */
export function nodeUrl(host: string, port: number, tlsPin: string | null): string {
  return `${tlsPin === null ? "http" : "https"}://${host}:${port}`;
}

/** Write to a temp name, then rename: watchers never see a half-written file. */
export async function writeAtomically(file: string, text: string, mode = 0o644): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, {mode});
    await rename(temp, file);
  } finally {
    await rm(temp, {force: true});
  }
}
