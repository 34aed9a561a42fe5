/**
 * Other MDM servers measured beside Orchard in `bench/checkin-floor.bench.ts`, when the
 * environment names a build of them. Nothing here builds a peer: bring your own binary.
 *
 * `ORCHARD_PEERS` is a comma-separated list of `name=path`; the one name known is `nanomdm`
 * (the NanoMDM server binary, micromdm/nanomdm v0.8.0 or later: the `filekv` and `inmem`
 * storage backends came with v0.8.0), e.g. `ORCHARD_PEERS=nanomdm=/work/peers/nanomdm`. An unknown
 * name, an empty path or a repeated name is an error; unset or empty means no peers.
 *
 * NanoMDM is started once per storage backend (`-storage file -storage-dsn <dir>
 * -storage-options enable_deprecated=1`, `-storage filekv -storage-dsn <dir>`, `-storage inmem
 * -storage-dsn ''`) on 127.0.0.1 at a free port, trusting the CA (`-ca`) that issued the device
 * identity of the Orchard rows, its log in a file as the daemon's is. The same device identity
 * then enrolls there (Authenticate and TokenUpdate, signed with `Mdm-Signature`), and the same
 * signed Idle must be answered 200 with an empty body before any rate is measured.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeviceEmulator } from '../test/support/device-emulator.js';

const run = promisify(execFile);

/** One peer named by `ORCHARD_PEERS`: which server and where its binary is. */
export interface PeerSpec {
  name: 'nanomdm';
  binary: string;
}

/**
 * The NanoMDM storage backends: `file` (one file per value in a directory tree, deprecated
 * since v0.8.0), `filekv` (its default since v0.8.0: key-value on diskv files) and `inmem`.
 */
export type NanomdmStorage = 'file' | 'filekv' | 'inmem';

/** A peer server running on 127.0.0.1 (the shape the bench's subjects take). */
export interface PeerServer {
  /** Label for tables and errors, e.g. `NanoMDM v0.9.0 file`. */
  name: string;
  url: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its working directory. */
  close(): Promise<void>;
}

/** Parses `ORCHARD_PEERS` (see the module comment); throws on a malformed value. */
export function peersFromEnv(value = process.env.ORCHARD_PEERS): PeerSpec[] {
  if (value === undefined || value.trim() === '') return [];
  const out: PeerSpec[] = [];
  const seen = new Set<string>();
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    const name = part.slice(0, Math.max(0, at)).trim();
    const binary = part.slice(at + 1).trim();
    if (at < 0 || binary === '')
      throw new Error(`ORCHARD_PEERS: "${part}" is not name=path (e.g. nanomdm=/path/to/nanomdm)`);
    if (name !== 'nanomdm')
      throw new Error(`ORCHARD_PEERS: unknown peer "${name}" (known: nanomdm)`);
    if (seen.has(name)) throw new Error(`ORCHARD_PEERS: ${name} given twice`);
    seen.add(name);
    out.push({ name, binary });
  }
  return out;
}

/** The version a NanoMDM binary prints (`-version`), e.g. `v0.9.0`. */
export async function nanomdmVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['-version']);
  return stdout.trim();
}

/** A port free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Starts NanoMDM with `storage` in a new directory under `workDir`, trusting `caPem` for device
 * identities; resolves once it answers HTTP. Its output goes to `nanomdm-<storage>.log` there.
 */
export async function startNanomdm(
  spec: PeerSpec,
  storage: NanomdmStorage,
  caPem: string,
  workDir: string,
  version: string,
): Promise<PeerServer> {
  const dir = join(workDir, `nanomdm-${storage}`);
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, caPem);
  const port = await freePort();
  const args = [
    ...['-listen', `127.0.0.1:${port}`, '-ca', caFile],
    ...['-api', randomBytes(24).toString('base64url'), '-storage', storage],
    // `file` is deprecated since v0.8.0 and wants its option; `inmem` takes an empty DSN.
    ...['-storage-dsn', storage === 'inmem' ? '' : join(dir, 'db')],
    ...(storage === 'file' ? ['-storage-options', 'enable_deprecated=1'] : []),
  ];
  const logFile = join(dir, `nanomdm-${storage}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(spec.binary, args, { cwd: dir, stdio: ['ignore', log, log], env: {} });
  closeSync(log);
  const spawned = new Promise<void>((done, fail) => {
    child.once('spawn', done);
    child.once('error', fail);
  });
  await spawned;
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        done();
        return;
      }
      child.once('exit', () => {
        done();
      });
      child.kill(signal);
    });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i >= 100) {
      await stop('SIGKILL');
      const tail = readFileSync(logFile, 'utf8').slice(-2000);
      throw new Error(`${spec.binary} ${args.join(' ')} did not start:\n${tail}`);
    }
    const up = await fetch(`${url}/version`).then(
      (r) => r.status > 0,
      () => false,
    );
    if (up) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    name: `NanoMDM ${version} ${storage}`,
    url,
    child,
    stop,
    async close() {
      await stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Enrolls `device` (an Orchard-enrolled emulator: same UDID, same identity) at `peer` with
 * Authenticate and TokenUpdate on `/mdm`, then checks that the peer answers the signed Idle
 * `idle` (its body and headers, exactly as `ab` will send them) with 200 and an empty body;
 * throws with the peer's answer otherwise.
 */
export async function enrollAtPeer(
  peer: PeerServer,
  device: DeviceEmulator,
  idle: { body: Uint8Array; headers: Record<string, string> },
): Promise<void> {
  const there = new DeviceEmulator({
    ...device.options,
    keys: device.keys,
    baseUrl: peer.url,
    checkinPath: '/mdm',
    serverPath: '/mdm',
  });
  await there.enroll();
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${peer.url}/mdm`, {
      method: 'PUT',
      headers: { ...idle.headers, 'content-type': 'application/x-apple-aspen-mdm' },
      body: idle.body,
    });
    const text = await res.text();
    if (res.status !== 200 || text.length > 0)
      throw new Error(`${peer.name} answered the signed Idle with ${res.status}: ${text}`);
  }
}
