/**
 * The demo's diagnose scene: Mytracer's investigation 3 told the diagnosis way. A tbf
 * shaper on the server's device holds its replies; `pktpath diagnose` runs the client and
 * says where the time went, without the user reading a single event.
 */
import { execFileSync, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { parseTraceOptions } from '../cli/options.js';
import { runRequest } from '../cli/request.js';
import type { Report } from '../diagnose/model.js';
import { renderReport } from '../diagnose/render.js';
import { readQdiscs } from '../diagnose/io/facts.js';
import { runTrace } from '../run/io/session.js';

export interface Scene {
  readonly client: string;
  readonly server: string;
  readonly serverIp: string;
  readonly dev: string;
  readonly port: number;
  /** where the HTML report goes (the scene says so) */
  readonly html: string;
}

const BYTES = 40_000;

function inNs(ns: string, args: readonly string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Runs python3 code in a namespace; resolves with its output. */
function py(ns: string, code: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(text.trim());
    });
  });
}

/** The shaped download, diagnosed; returns the report (printed on `out`). */
export async function delayScene(s: Scene, out: NodeJS.WritableStream): Promise<Report | null> {
  inNs(s.server, ['tc', 'qdisc', 'add', 'dev', s.dev, 'root', 'tbf', 'rate', '300kbit', 'burst', '3000', 'latency', '5s']);
  const server = py(s.server, `import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${s.serverIp}', ${s.port})); s.listen(1)\nc,_=s.accept(); c.sendall(b'y'*${BYTES}); c.close()`, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  const opts = parseTraceOptions({ proto: 'tcp', ipaddr: s.serverIp, port: String(s.port) });
  let stop: () => void = () => {};
  const until = new Promise<void>((r) => (stop = r));
  let report: Report | null = null;
  const err = new PassThrough();
  err.resume();
  const files = { html: s.html, perfetto: null, source: `pktpath diagnose --proto tcp -H ${s.serverIp} -P ${s.port} --html ${s.html} -- <client download>` };
  await runTrace(runRequest(opts, { ringMb: '4', report: files }), {
    out: new Writable({ write: (_c, _e, cb) => cb() }),
    err,
    until,
    onReady: () => {
      const client = `import socket\ns=socket.socket(); s.connect(('${s.serverIp}', ${s.port})); n=0\nwhile True:\n    d=s.recv(65536)\n    if not d: break\n    n+=len(d)\nprint(n)`;
      void py(s.client, client, 10_000).then((got) => {
        out.write(`   (client: received ${got || 0} bytes)\n`);
        setTimeout(stop, 300);
      });
    },
    diagnose: {
      facts: () => ({ qdiscs: readQdiscs() }),
      done: (r: Report, netns: (i: number) => string) => {
        report = r;
        const text = renderReport(r, { netns, paths: 1 });
        for (const line of text.split('\n').filter((l) => !/^\s+(advice|evidence):/.test(l))) out.write(`   ${line}\n`);
      },
    },
  });
  await server;
  out.write(`   the picture of it (path diagram, timeline, latency per stage): ${s.html}\n`);
  return report;
}
