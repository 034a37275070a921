/**
 * TCP segments the kernel handles on the socket side (test/fixtures/scripts/tcp-segments.py):
 * a data segment delivered twice, which the receiving socket drops as TCP_OLD_DATA in
 * tcp_data_queue, where the skb has neither a device nor a route any more; and data pushed
 * into a connection whose segments the caller's firewall drops, which the sender retransmits.
 * Bounded: every child has a kill timer.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './netns.js';
import { runInNs } from './traffic.js';

export const SEGMENTS_SCRIPT = join(REPO_ROOT, 'test/fixtures/scripts/tcp-segments.py');

/**
 * Listens on host:port in serverNs, connects from clientNs, sends a few bytes and sends the
 * same data segment again on clientIf. Resolves with the sender's line ("duplicated seq N
 * len M"); rejects with both sides' output when a step fails.
 */
export async function duplicateSegment(serverNs: string, clientNs: string, clientIf: string, host: string, port: number): Promise<string> {
  const server = spawn('ip', ['netns', 'exec', serverNs, 'python3', SEGMENTS_SCRIPT, 'serve', host, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = setTimeout(() => server.kill('SIGKILL'), 20_000);
  let out = '';
  let errors = '';
  server.stderr.setEncoding('utf8').on('data', (d: string) => (errors += d));
  const closed = new Promise<number | null>((resolve) => server.on('close', (code) => (clearTimeout(kill), resolve(code))));
  const listening = new Promise<boolean>((resolve) => {
    server.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('listening')) resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  try {
    if (!(await listening)) throw new Error(`tcp-segments serve ${host}:${port} in ${serverNs} did not listen: ${errors.trim()}`);
    const r = await runInNs(clientNs, ['python3', SEGMENTS_SCRIPT, 'duplicate', clientIf, host, String(port)], 15_000);
    if (r.code !== 0) throw new Error(`tcp-segments duplicate from ${clientNs}: exit ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim()}`);
    const code = await closed;
    if (code !== 0) throw new Error(`tcp-segments serve: exit ${code}: ${errors.trim()}`);
    return r.stdout.trim();
  } finally {
    server.kill('SIGKILL');
  }
}

/** Connects from clientNs to host:port, sends a few bytes, keeps the connection `seconds`, closes. */
export async function pushSegment(clientNs: string, host: string, port: number, seconds: number): Promise<void> {
  const r = await runInNs(clientNs, ['python3', SEGMENTS_SCRIPT, 'push', host, String(port), String(seconds)], (seconds + 10) * 1000);
  if (r.code !== 0) throw new Error(`tcp-segments push from ${clientNs}: exit ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim()}`);
}
