/**
 * Integration tests of `pktpath sockets`, in two namespaces joined by a veth pair
 * (test/helpers/netns.ts), against `ss -tunapH` run inside the same namespace:
 *
 *   (1) a Python process in the server namespace listens on TCP (IPv4 and IPv6) and UDP
 *       (IPv4, IPv6 only), a client process holds a connection to it: pktpath lists the
 *       same sockets as ss with the same state, queues, addresses and pids, and the
 *       listener's pid is there
 *   (2) who would answer: a listener on 127.0.0.1 only, one in the other namespace, one
 *       that answers; the sentence names the other address and the other namespace
 *   (3) without -N: both namespaces, by name
 *   (4) bad input: an unknown namespace, a bad port (exit 2), not root with -N (exit 3)
 *
 * Needs root, iproute2's ss and python3; otherwise skipped with the reason.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execSyncIn, haveCommand, requireRoot, runCli, withTopology } from '../helpers/netns.js';
import type { Topology } from '../helpers/netns.js';
import { formatEndpoint } from '../../src/sockets/socket.js';
import type { Socket } from '../../src/sockets/socket.js';

const TEST_TIMEOUT = 60_000;
const NEEDS = { btf: false, bpfObject: false, commands: ['ss', 'python3', 'setpriv'] };

/** Starts python3 `code` inside `ns` (pid = the Python process: ip netns exec execs in place); resolves on its "ready". */
function startPython(ns: string, code: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python in ${ns}: no "ready" within 5 s: ${err}`)), 5000);
    child.stdout!.on('data', (d: Buffer) => {
      if (!d.toString().includes('ready')) return;
      clearTimeout(timer);
      resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`python in ${ns} exited ${code}: ${err}`)));
  });
}

const serverCode = (v4: string, v6: string): string => `
import socket, time
def sock(fam, kind, addr, port, v6only=None):
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM: s.listen(5)
    return s
keep = [sock(socket.AF_INET, socket.SOCK_STREAM, '${v4}', 7001), sock(socket.AF_INET6, socket.SOCK_STREAM, '${v6}', 7001),
        sock(socket.AF_INET, socket.SOCK_DGRAM, '0.0.0.0', 7002), sock(socket.AF_INET6, socket.SOCK_DGRAM, '::', 7002, 1),
        sock(socket.AF_INET, socket.SOCK_STREAM, '127.0.0.1', 7003)]
print('ready', flush=True)
time.sleep(50)`;

const clientCode = (v4: string): string => `
import socket, time
c = socket.create_connection(('${v4}', 7001)); c.send(b'abc')
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('0.0.0.0', 7004)); l.listen(1)
print('ready', flush=True)
time.sleep(50)`;

interface SocketsJson {
  sockets: (Omit<Socket, 'recvQ' | 'sendQ' | 'netnsLabel' | 'rawProtocol'> & { recv_q: number; send_q: number; netns_label: string })[];
  listeners: { answering: unknown[]; elsewhere: { why: string; socket: { netns_label: string; local: { addr: string } } }[]; sentence: string }[];
  notes: string[];
}

async function socketsJson(args: string[]): Promise<SocketsJson> {
  const r = await runCli(['sockets', '--json', ...args]);
  assert.equal(r.code, 0, `pktpath sockets ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as SocketsJson;
}

/** One ss -tunapH line: netid state rq sq local peer pids. */
function ssRows(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const pids = [...l.matchAll(/pid=(\d+)/g)].map((m) => m[1]).sort().join(',');
      return [...f.slice(0, 6), pids].join(' ');
    })
    .sort();
}

function ourRows(j: SocketsJson): string[] {
  return j.sockets
    .filter((s) => s.proto !== 'raw')
    .map((s) => {
      const pids = [...new Set(s.processes.map((p) => String(p.pid)))].sort().join(',');
      return [s.proto, s.state, s.recv_q, s.send_q, formatEndpoint(s.local, s), formatEndpoint(s.peer, s, true), pids].join(' ');
    })
    .sort();
}

async function withServers(t: TestContext, body: (topo: Topology, server: ChildProcess, client: ChildProcess) => Promise<void>): Promise<void> {
  if (!requireRoot(t, NEEDS)) return;
  await withTopology(
    async (topo) => {
      const server = await startPython(topo.server.ns, serverCode(topo.server.v4, topo.server.v6));
      const client = await startPython(topo.client.ns, clientCode(topo.server.v4));
      try {
        await body(topo, server, client);
      } finally {
        server.kill('SIGKILL');
        client.kill('SIGKILL');
      }
    },
    { tag: 'sockets' },
  );
}

describe('pktpath sockets', { timeout: TEST_TIMEOUT }, () => {
  test('lists what ss -tunap lists in the namespace, with the listener\'s pid', async (t) => {
    await withServers(t, async (topo, server) => {
      for (const end of [topo.server, topo.client]) {
        const ours = await socketsJson(['-N', end.ns]);
        const ss = execSyncIn(end.ns, ['ss', '-tunapH']);
        assert.deepEqual(ourRows(ours), ssRows(ss), `netns ${end.ns}`);
        assert.ok(ourRows(ours).length >= (end === topo.server ? 6 : 2), `sockets in ${end.ns}:\n${ourRows(ours).join('\n')}`);
      }
      const j = await socketsJson(['-N', topo.server.ns, '-P', '7001', '--listening']);
      const listeners = j.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === 7001);
      assert.deepEqual(listeners.map((s) => s.family).sort(), [4, 6]);
      for (const l of listeners) assert.deepEqual(l.processes.map((p) => [p.pid, p.comm]), [[server.pid, 'python3']]);
      assert.equal(listeners.find((s) => s.family === 4)!.recv_q, 1, 'the client\'s connection waits in the accept queue');
      const udp6 = (await socketsJson(['-N', topo.server.ns, '--proto', 'udp'])).sockets.find((s) => s.family === 6);
      assert.equal(udp6?.v6only, true);
    });
  });

  test('who would answer: another address, another namespace, the one that answers', async (t) => {
    await withServers(t, async (topo, server) => {
      const loop = await socketsJson(['-N', topo.server.ns, '--listening', '--proto', 'tcp', '-H', topo.server.v4, '-P', '7003']);
      assert.equal(loop.listeners.length, 1);
      assert.deepEqual(loop.listeners[0]!.answering, []);
      assert.deepEqual(loop.listeners[0]!.elsewhere.map((e) => [e.why, e.socket.local.addr]), [['address', '127.0.0.1']]);
      assert.match(loop.listeners[0]!.sentence, new RegExp(`^nothing listens on tcp ${topo.server.v4.replace(/\./g, '\\.')}:7003 in netns ${topo.server.ns}; but python3 \\(pid ${server.pid}\\) listens on 127\\.0\\.0\\.1:7003 \\(on another address\\)$`));
      const other = await socketsJson(['-N', topo.server.ns, '--listening', '--proto', 'tcp', '-P', '7004']);
      assert.deepEqual(other.listeners[0]!.elsewhere.map((e) => [e.why, e.socket.netns_label]), [['namespace', topo.client.ns]]);
      assert.match(other.listeners[0]!.sentence, /in another namespace/);
      const text = await runCli(['sockets', '--listening', '--proto', 'tcp', '-H', topo.server.v6, '-P', '7001']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^listeners: tcp \\[${topo.server.v6}\\]:7001 in netns ${topo.server.ns}: python3 \\(pid ${server.pid}\\) listens on \\[${topo.server.v6}\\]:7001$`, 'm'));
    });
  });

  test('without -N: every namespace, named', async (t) => {
    await withServers(t, async (topo) => {
      const j = await socketsJson(['-P', '7001']);
      const labels = new Set(j.sockets.map((s) => s.netns_label));
      assert.ok(labels.has(topo.server.ns) && labels.has(topo.client.ns), [...labels].join(', '));
      assert.ok(j.sockets.some((s) => s.netns === topo.client.inode && s.state === 'ESTAB' && s.peer.port === 7001));
    });
  });

  test('bad input: one line and exit 2; another namespace without root: exit 3', async (t) => {
    if (!requireRoot(t, NEEDS)) return;
    const table: [string[], number, RegExp][] = [
      [['sockets', '-N', 'pp-no-such-ns'], 2, /^pktpath: unknown network namespace "pp-no-such-ns"/],
      [['sockets', '-P', '0'], 2, /^pktpath: invalid --port "0": expected 1-65535$/],
      [['sockets', '-H', 'nohost'], 2, /^pktpath: invalid --ipaddr "nohost"/],
      [['sockets', '--proto', 'sctp'], 2, /^pktpath: invalid --proto "sctp"/],
    ];
    for (const [args, code, msg] of table) {
      const r = await runCli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), msg);
    }
    await withTopology(
      async (topo) => {
        const r = await runCliAsNobody(['sockets', '-N', topo.server.ns]);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr.trim(), /^pktpath: reading network namespace "[^"]+" needs root/);
      },
      { tag: 'sockets' },
    );
  });
});

/** bin/pktpath as uid/gid 65534 (nobody). */
async function runCliAsNobody(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { runProc } = await import('../helpers/traffic.js');
  const { PKTPATH_BIN } = await import('../helpers/netns.js');
  if (!haveCommand('setpriv')) throw new Error('setpriv missing');
  return runProc('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', PKTPATH_BIN, ...args]);
}
