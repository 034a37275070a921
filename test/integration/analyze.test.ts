/**
 * `pktpath analyze` on captures these tests make with tcpdump in namespaces they create:
 * a reset forged by the router, a path MTU black hole (the router's ICMP dropped on the
 * router, or on the client), retransmission timeouts (a DROP rule for a while), a zero
 * window (a server that never reads), a refused connection; and bad input (corrupt,
 * truncated, unknown link type) failing with one line and exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKTPATH_BIN, createTopology, execSyncIn, haveCommand, missingPrereq, runCli, skipUnlessMet } from '../helpers/netns.js';
import { CLIENT_PY, INJECT_RST_PY, PYTHON, SERVER_PY, captureWhile, python, routedTopology, startIn } from '../helpers/capture.js';
import type { Routed } from '../helpers/capture.js';
import type { AnalysisReport, Finding } from '../../src/capture/report.js';
import { ether, ip, pcapFile, tcp, TCP } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'pktpath-analyze-'));
process.on('exit', () => (process.env.PKTPATH_KEEP_CAPTURES ? process.stderr.write(`# captures kept in ${dir}\n`) : rmSync(dir, { recursive: true, force: true })));

function prereq(extra: string[] = []): string | null {
  return missingPrereq({ btf: false, bpfObject: false, commands: ['tcpdump', 'iptables', ...extra] }) ?? (spawnSync(PYTHON, ['-c', 'import socket'], { stdio: 'ignore' }).status === 0 ? null : `needs ${PYTHON}`);
}

function scapyMissing(): string | null {
  return spawnSync(PYTHON, ['-c', 'import scapy.all'], { stdio: 'ignore' }).status === 0 ? null : 'needs python3-scapy (scripts/setup.sh installs it)';
}

async function analyze(file: string, extra: string[] = []): Promise<AnalysisReport> {
  const r = await runCli(['analyze', '--json', ...extra, file], 60_000);
  assert.equal(r.code, 0, `pktpath analyze ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as AnalysisReport;
}

function find(r: AnalysisReport, id: string): Finding {
  const f = r.findings.find((x) => x.id === id);
  assert.ok(f, `no ${id} among ${r.findings.map((x) => `${x.id}: ${x.verdict}`).join(' | ')}`);
  return f;
}

async function withRouted<T>(opts: { mtu?: number }, fn: (t: Routed) => Promise<T>): Promise<T> {
  const topo = routedTopology(opts);
  try {
    return await fn(topo);
  } finally {
    topo.destroy();
  }
}

test('a reset forged by the router (TTL 99 where the server\'s packets arrive with 63) is told as injected', async (t) => {
  if (!skipUnlessMet(t, prereq() ?? scapyMissing())) return;
  await withRouted({}, async (n) => {
    const file = join(dir, 'rst.pcap');
    const srv = startIn(n.srv, [PYTHON, '-c', SERVER_PY, n.srvAddr, '8080', 'drip', '6'], 15_000);
    await srv.waitFor(/listening/);
    const inject = startIn(n.rtr, [PYTHON, '-c', INJECT_RST_PY, n.rtrSrvIf, n.srvAddr, n.cliAddr], 20_000);
    await inject.waitFor(/ready/, 15_000);
    await captureWhile(n.cli, n.cliIf, file, async () => {
      await python(n.cli, CLIENT_PY, [n.srvAddr, 8080, 0, 2], 8000);
      await inject.waitFor(/sent|nothing/, 5000);
    });
    await Promise.all([srv.stop(), inject.stop()]);
    assert.match(inject.out(), /sent/, `the injector: ${inject.out()} ${inject.err()}`);
    const r = await analyze(file);
    const f = find(r, 'tcp.rst-injected');
    assert.equal(f.level, 'error');
    assert.match(f.what, new RegExp(`a reset from ${n.srvAddr.replace(/\./g, '\\.')}:8080 to ${n.cliAddr.replace(/\./g, '\\.')}:\\d+, but its TTL is 99 where ${n.srvAddr.replace(/\./g, '\\.')}'s other \\d+ packets arrive with 63`));
    assert.equal(r.verdict.finding, f.n, 'the forged reset is the verdict');
    assert.ok(!r.findings.some((x) => x.id === 'tcp.reset'), 'not taken for the server\'s own reset');
    // the client's stack then answers the server's next byte with a reset of its own: a consequence
    assert.equal(find(r, 'tcp.reset-after-forged').level, 'benign');
  });
});

async function blackHole(n: Routed, file: string): Promise<void> {
  const srv = startIn(n.srv, [PYTHON, '-c', SERVER_PY, n.srvAddr, '9000', 'sink', '8'], 15_000);
  await srv.waitFor(/listening/);
  await captureWhile(n.cli, n.cliIf, file, async () => {
    const c = await python(n.cli, CLIENT_PY, [n.srvAddr, 9000, 200_000, 3.5], 8000);
    assert.match(c.stdout, /error (timeout|TimeoutError)/, `the transfer should hang: ${c.stdout} ${c.stderr}`);
  });
  await srv.stop();
}

test('PMTU black hole: the router (MTU 1000 towards the server) drops its own ICMP; big segments resent, never ACKed', async (t) => {
  if (!skipUnlessMet(t, prereq())) return;
  await withRouted({ mtu: 1000 }, async (n) => {
    execSyncIn(n.rtr, ['iptables', '-A', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP']);
    const file = join(dir, 'pmtu-router.pcap');
    await blackHole(n, file);
    const r = await analyze(file);
    const f = find(r, 'pmtu.black-hole');
    assert.equal(r.verdict.finding, f.n);
    assert.match(f.what, new RegExp(`${n.cliAddr.replace(/\./g, '\\.')} sent the \\d{4}-byte segment of packet #\\d+ \\d+ times`));
    assert.match(f.what, /No ICMP "fragmentation needed"/);
    assert.ok(!r.findings.some((x) => x.id === 'tcp.retransmit'), 'the black hole explains the retransmissions');
  });
});

test('PMTU black hole: the ICMP reaches the client\'s capture but its firewall drops it', async (t) => {
  if (!skipUnlessMet(t, prereq())) return;
  await withRouted({ mtu: 1000 }, async (n) => {
    execSyncIn(n.cli, ['iptables', '-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP']);
    const file = join(dir, 'pmtu-client.pcap');
    await blackHole(n, file);
    const r = await analyze(file);
    const f = find(r, 'pmtu.black-hole');
    assert.match(f.what, new RegExp(`ICMP 3/4 \\(fragmentation needed\\) \\(MTU 1000\\) from ${n.rtrCliAddr.replace(/\./g, '\\.')} reached the capture point at packet #\\d+, yet ${n.cliAddr.replace(/\./g, '\\.')} kept sending`));
    assert.equal(f.packets.length, 2, 'the segment and the ICMP');
  });
});

test('retransmission timeouts: a DROP rule on the server for 1.5 s, then the data gets through', async (t) => {
  if (!skipUnlessMet(t, prereq())) return;
  const topo = createTopology({ tag: 'anlrto' });
  try {
    const file = join(dir, 'rto.pcap');
    const srv = startIn(topo.server.ns, [PYTHON, '-c', SERVER_PY, topo.server.v4, '7000', 'sink', '10'], 15_000);
    await srv.waitFor(/listening/);
    await captureWhile(topo.client.ns, 'any', file, async () => {
      // data only: the handshake and ACKs pass
      execSyncIn(topo.server.ns, ['iptables', '-I', 'INPUT', '-p', 'tcp', '--dport', '7000', '-m', 'length', '--length', '200:65535', '-j', 'DROP']);
      const client = python(topo.client.ns, CLIENT_PY, [topo.server.v4, 7000, 3000, 6], 10_000);
      await new Promise((r) => setTimeout(r, 1500));
      execSyncIn(topo.server.ns, ['iptables', '-D', 'INPUT', '-p', 'tcp', '--dport', '7000', '-m', 'length', '--length', '200:65535', '-j', 'DROP']);
      const c = await client;
      assert.match(c.stdout, /done/, c.stdout + c.stderr);
    });
    await srv.stop();
    const r = await analyze(file);
    assert.equal(r.capture.interfaces[0]!.linkType, 276, 'tcpdump -i any writes Linux cooked v2');
    const f = find(r, 'tcp.retransmit');
    assert.equal(f.level, 'warn');
    assert.match(f.what, /\d+ timeouts? \(RTO\)/);
    assert.match(f.what, /apart \(doubling: a timeout backing off/);
    assert.ok(!r.findings.some((x) => x.id === 'pmtu.black-hole'), 'acknowledged in the end: no MTU problem');
    const flow = r.flows.list.find((x) => x.b.endsWith(':7000'))!;
    assert.equal(flow.handshake, 'complete');
    assert.ok(flow.retransmissions[0] >= 2);
  } finally {
    await topo.destroy();
  }
});

test('zero window: a server that never reads shuts its window; the client probes', async (t) => {
  if (!skipUnlessMet(t, prereq())) return;
  const topo = createTopology({ tag: 'anlzw' });
  try {
    const file = join(dir, 'zw.pcap');
    const srv = startIn(topo.server.ns, [PYTHON, '-c', SERVER_PY, topo.server.v4, '7001', 'stall', '8'], 15_000);
    await srv.waitFor(/listening/);
    await captureWhile(topo.client.ns, topo.client.ifname, file, async () => {
      await python(topo.client.ns, CLIENT_PY, [topo.server.v4, 7001, 4_000_000, 3], 8000);
    }, ['--time-stamp-precision=nano']);
    await srv.stop();
    const r = await analyze(file);
    assert.equal(r.capture.resolution, 'ns');
    const f = find(r, 'tcp.zero-window');
    assert.match(f.verdict, new RegExp(`${topo.server.v4.replace(/\./g, '\\.')} shut its receive window`));
    assert.match(f.what, /with [1-9]\d* zero-window probes/);
  } finally {
    await topo.destroy();
  }
});

test('a refused connection, and a bulk transfer on veth shows offload-sized segments (TSO/GSO at the sender)', async (t) => {
  if (!skipUnlessMet(t, prereq())) return;
  const topo = createTopology({ tag: 'anlref' });
  try {
    const file = join(dir, 'refused.pcap');
    const srv = startIn(topo.server.ns, [PYTHON, '-c', SERVER_PY, topo.server.v4, '7002', 'sink', '8'], 15_000);
    await srv.waitFor(/listening/);
    await captureWhile(topo.client.ns, 'any', file, async () => {
      await python(topo.client.ns, CLIENT_PY, [topo.server.v4, 7003, 10, 2], 5000);
      await python(topo.client.ns, CLIENT_PY, [topo.server.v4, 7002, 2_000_000, 4], 8000);
    });
    await srv.stop();
    const r = await analyze(file);
    const refused = find(r, 'tcp.refused');
    assert.equal(r.verdict.finding, refused.n);
    const off = find(r, 'capture.offload');
    assert.match(off.what, /TSO\/GSO: the capture host was sending them/);
    // the same file as pcapng (editcap), and through standard input, says the same
    if (haveCommand('editcap')) {
      execFileSync('editcap', ['-F', 'pcapng', file, `${file}ng`]);
      const ng = await analyze(`${file}ng`);
      assert.deepEqual(ng.findings.map((x) => x.id), r.findings.map((x) => x.id));
      assert.equal(ng.capture.format, 'pcapng');
    }
    const piped = spawnSync('sh', ['-c', `cat ${file} | ${PKTPATH_BIN} analyze --json -`], { encoding: 'utf8' });
    assert.equal(piped.status, 0, piped.stderr);
    assert.deepEqual((JSON.parse(piped.stdout) as AnalysisReport).findings.map((x) => x.id), r.findings.map((x) => x.id));
  } finally {
    await topo.destroy();
  }
});

/* ------------------------------------------------------------------ bad input */

test('bad input: one clear line on stderr, exit 2, no stack trace', async (t) => {
  if (!skipUnlessMet(t, missingPrereq({ root: false, btf: false, bpfObject: false, netns: false }))) return;
  const good = pcapFile([{ tsNs: 1_700_000_000_000_000_000n, data: ether(ip('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, { flags: TCP.SYN }))) }, { tsNs: 1_700_000_000_100_000_000n, data: ether(ip('10.0.0.2', '10.0.0.1', 6, tcp(2, 1, { flags: TCP.RST | TCP.ACK }))) }]);
  const files: [string, Buffer | null, RegExp][] = [
    ['truncated.pcap', good.subarray(0, good.length - 7), /truncated pcap: the file ends \d+ bytes into record 2/],
    ['corrupt.pcapng', Buffer.concat([Buffer.from('0a0d0d0a1c0000004d3c2b1a', 'hex'), Buffer.alloc(16)]), /corrupt pcapng/],
    ['usb.pcap', pcapFile([{ tsNs: 1n, data: Buffer.alloc(64) }], { linkType: 220 }), /unsupported link type 220 \(USB Linux mmapped\); pktpath analyze reads Ethernet, Linux cooked/],
    ['text.txt', Buffer.from('hello, this is not a capture\n'), /not a pcap or pcapng capture \(it starts with 68656c6c\)/],
    ['missing.pcap', null, /cannot read .*missing\.pcap: no such file/],
  ];
  for (const [name, bytes, re] of files) {
    const path = join(dir, name);
    if (bytes) writeFileSync(path, bytes);
    const r = await runCli(['analyze', path]);
    assert.equal(r.code, 2, `${name}: exit ${r.code}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: ${r.stderr}`);
    assert.match(lines[0]!, /^pktpath: /);
    assert.match(lines[0]!, re);
  }
  const flag = await runCli(['analyze', '--max-flows', 'zero', join(dir, 'truncated.pcap')]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /invalid --max-flows "zero"/);
  assert.ok(readFileSync(join(dir, 'truncated.pcap')).length > 0);
});
