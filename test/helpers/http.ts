/**
 * HTTP traffic in a {@link Routed} scene for process-tree capture tests: a tiny server in
 * the server namespace, and another process's flows to it (the ones a command's trace
 * must leave out).
 */
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { sleep } from './collect.js';
import { haveCommand, requireRoot } from './netns.js';
import { BPF_OBJECT } from '../../src/shared/io/paths.js';
import type { Routed } from './routed.js';

/** A server that answers every connection with a short HTTP response, for `lifeS` seconds. */
export const SERVER_PY = (addr: string, port: number, lifeS: number): string => `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(addr)}, ${port})); s.listen(64); s.settimeout(0.2)
end = time.time() + ${lifeS}
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(1)
    try:
        c.recv(4096); c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n')
    except Exception:
        pass
    c.close()
`;

/** The client loop both scripts run; with `flag`, it stops once that file exists. */
function parallelPy(addr: string, port: number, max: number, gapMs: number, flag?: string): string {
  const stop = flag === undefined ? '' : `    if os.path.exists(${JSON.stringify(flag)}): break\n`;
  return `
import os, socket, time
for i in range(${max}):
${stop}    s = socket.socket(); s.settimeout(2); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('0.0.0.0', 20000 + i)); s.connect((${JSON.stringify(addr)}, ${port})); print(s.getsockname()[1], flush=True)
        s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); s.recv(4096)
    except Exception as e:
        print('error', e, flush=True)
    s.close(); time.sleep(${gapMs / 1000})
${flag === undefined ? '' : "else:\n    print('gave up', flush=True)\n"}`;
}

/**
 * Another process's flows to the same server: `n` connections, one every `gapMs`; prints
 * each local port. Its ports are taken below the ephemeral range, so none can be the
 * command's (a port the command has given back may be handed out again at once).
 */
export const PARALLEL_PY = (addr: string, port: number, n: number, gapMs: number): string => parallelPy(addr, port, n, gapMs);

export async function startServer(r: Routed, port: number, lifeS: number): Promise<void> {
  void r.run('srv', ['python3', '-c', SERVER_PY(r.addr.srv, port, lifeS)], { timeoutMs: (lifeS + 5) * 1000, allowFail: true });
  for (let i = 0; i < 50; i++) {
    if ((await r.sh('srv', `ss -Hltn 'sport = :${port}'`, { allowFail: true })).stdout.trim()) return;
    await sleep(100);
  }
  throw new Error(`no listener on ${r.addr.srv}:${port}`);
}

/**
 * Like {@link PARALLEL_PY}, but it goes on until `flag` exists (at most `max` connections,
 * one every `gapMs`): another process's flows all along a run whose start is not known.
 */
export const PARALLEL_UNTIL_PY = (addr: string, port: number, flag: string, max: number, gapMs: number): string =>
  parallelPy(addr, port, max, gapMs, flag);

/** Root, curl, python3 and nft, and the built object: what the process-tree capture tests need; skips with the reason. */
export function trackReady(t: TestContext): boolean {
  if (!requireRoot(t)) return false;
  for (const c of ['curl', 'python3', 'nft']) {
    if (!haveCommand(c)) {
      t.skip(`needs ${c}`);
      return false;
    }
  }
  if (!existsSync(BPF_OBJECT)) {
    t.skip('build/pktpath.bpf.o not built (npm run setup)');
    return false;
  }
  return true;
}
