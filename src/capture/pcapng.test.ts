import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter, cookedV2, enhancedPacketBlock, PKT_HOST, PKT_OUTGOING } from './pcapng.js';
import { packetComments } from './comment.js';
import { CaptureStream } from './stream.js';
import type { CaptureInterface, RawPacket } from './records.js';
import { ip, tcp, TCP } from '../../test/helpers/frames.js';

const T0 = 1_700_000_000_123_456_789n;
const syn = ip('10.199.7.1', '10.199.7.2', 6, tcp(40000, 8080, { flags: TCP.SYN, mss: 1460 }));
const rst = ip('10.199.7.2', '10.199.7.1', 6, tcp(8080, 40000, { flags: TCP.RST | TCP.ACK, ack: 1 }));

const STORY = packetComments({
  summary: 'tcp 10.199.7.1:40000 -> 10.199.7.2:8080 [S]',
  at: { probe: 'netif_receive_skb', netns: 'srv', dev: 'pp7s', dtNs: 9000, event: 4 },
  path: [
    { probe: 'net_dev_queue', netns: 'cli', dev: 'pp7c', dtNs: 0 },
    { probe: 'netif_receive_skb', netns: 'srv', dev: 'pp7s', dtNs: 9000 },
    { probe: 'kfree_skb', netns: 'srv', dev: 'pp7s', dtNs: 21000 },
  ],
  netfilter: [{ hook: 'ip.filter.INPUT', verdict: 'ACCEPT', rule: null }],
  drop: { reason: 'NO_SOCKET', location: 'tcp_v4_rcv+0x91' },
  finding: { id: 'tcp.no-listener', level: 'error', text: 'nothing listens on 10.199.7.2:8080/tcp in netns srv' },
});

/** The file a two-namespace trace of a refused SYN would give: one interface per (netns, device). */
function sample(): Buffer {
  const chunks: Buffer[] = [];
  const w = new PcapngWriter((b) => chunks.push(b), { application: 'pktpath test', os: 'Linux' });
  const cli = w.interfaceId({ netns: 'cli', dev: 'pp7c', linkType: 276, snaplen: 256 });
  const srv = w.interfaceId({ netns: 'srv', dev: 'pp7s', linkType: 276, snaplen: 256, description: 'pp7s (ifindex 3) in netns srv (4026532386)' });
  assert.equal(w.interfaceId({ netns: 'cli', dev: 'pp7c', linkType: 276, snaplen: 256 }), cli, 'an interface is described once');
  const mk = (l3: Buffer, ifindex: number, out: boolean): Buffer => cookedV2(l3, { protocol: 0x0800, ifindex, pktType: out ? PKT_OUTGOING : PKT_HOST });
  w.packet({ iface: cli, tsNs: T0, data: mk(syn, 2, true), origLen: 20 + syn.length, dir: 'out', comments: ['pktpath: tcp SYN leaves cli'], packetId: 1n });
  w.packet({ iface: srv, tsNs: T0 + 9000n, data: mk(syn, 3, false), origLen: 20 + syn.length, dir: 'in', comments: STORY, packetId: 1n });
  w.packet({ iface: srv, tsNs: T0 + 30_000n, data: mk(rst, 3, true), origLen: 20 + rst.length, dir: 'out' });
  w.stats({ iface: srv, tsNs: T0 + 40_000n, received: 3n, dropped: 0n });
  assert.deepEqual([w.packets, w.interfaces], [3, 2]);
  w.flush();
  return Buffer.concat(chunks);
}

test('the writer\'s file reads back: interfaces "netns/dev", ns timestamps, directions, comments', () => {
  const got: { p: Pick<RawPacket, 'n' | 'iface' | 'sec' | 'nsec' | 'dir' | 'caplen'> & { comments: string[] | null } }[] = [];
  const ifaces: CaptureInterface[] = [];
  const s = new CaptureStream('w.pcapng', {
    packet: (p) => got.push({ p: { n: p.n, iface: p.iface, sec: p.sec, nsec: p.nsec, dir: p.dir, caplen: p.caplen, comments: p.comments } }),
    interface: (i) => ifaces.push(i),
  });
  s.push(sample());
  const d = s.finish();
  assert.deepEqual([d.format, d.resolution, d.application], ['pcapng', 'ns', 'pktpath test']);
  assert.deepEqual(ifaces.map((i) => [i.name, i.linkType, i.snaplen, i.unitsPerSec]), [['cli/pp7c', 276, 256, 1e9], ['srv/pp7s', 276, 256, 1e9]]);
  assert.equal(ifaces[1]!.description, 'pp7s (ifindex 3) in netns srv (4026532386)');
  assert.deepEqual(got.map((g) => [g.p.iface, g.p.dir, g.p.nsec]), [[0, 2, 123_456_789], [1, 1, 123_465_789], [1, 2, 123_486_789]]);
  assert.deepEqual(got[1]!.p.comments, STORY);
  assert.equal(got[2]!.p.comments, null);
});

test('the writer cuts packets to the interface snaplen and refuses an undescribed interface', () => {
  const chunks: Buffer[] = [];
  const w = new PcapngWriter((b) => chunks.push(b), { application: 't' });
  const id = w.interfaceId({ netns: 'n', dev: 'd', linkType: 101, snaplen: 40 });
  w.packet({ iface: id, tsNs: 0n, data: Buffer.alloc(100, 0x45), origLen: 100 });
  w.flush();
  let caplen = -1;
  let orig = -1;
  const s = new CaptureStream('c', { packet: (p) => ((caplen = p.caplen), (orig = p.origLen)) });
  s.push(Buffer.concat(chunks));
  s.finish();
  assert.deepEqual([caplen, orig], [40, 100]);
  assert.throws(() => w.packet({ iface: 5, tsNs: 0n, data: Buffer.alloc(1), origLen: 1 }), /interface 5, but 1 are described/);
  assert.throws(() => enhancedPacketBlock({ iface: 0, tsNs: 0n, data: Buffer.alloc(1), origLen: 1, comments: ['x'.repeat(70_000)] }), /at most 65535/);
});

test('the standard comment: vantage point, path with times, netfilter, drop, finding', () => {
  assert.deepEqual(STORY, [
    'pktpath: tcp 10.199.7.1:40000 -> 10.199.7.2:8080 [S]; seen at netif_receive_skb on pp7s in netns srv (event 4)',
    'path: net_dev_queue [cli/pp7c] > netif_receive_skb [srv/pp7s] +9us > kfree_skb +21us',
    'netfilter: ip.filter.INPUT ACCEPT',
    'drop: NO_SOCKET at tcp_v4_rcv+0x91',
    'finding: tcp.no-listener (error): nothing listens on 10.199.7.2:8080/tcp in netns srv',
  ]);
});

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function withFile(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-pcapng-'));
  try {
    const path = join(dir, 'w.pcapng');
    writeFileSync(path, sample());
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tshark reads the file: interface names and descriptions, directions, ns times, comments', (t) => {
  if (!have('tshark')) return t.skip('tshark is not installed (scripts/setup.sh installs it)');
  withFile((path) => {
    const fields = ['frame.number', 'frame.interface_name', 'frame.interface_description', 'frame.packet_flags_direction', 'frame.time_epoch', 'ip.src', 'frame.comment'];
    const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('|'));
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((x) => x.slice(0, 6)), [
      ['1', 'cli/pp7c', 'device pp7c in network namespace cli', '0x00000002', '1700000000.123456789', '10.199.7.1'],
      ['2', 'srv/pp7s', 'pp7s (ifindex 3) in netns srv (4026532386)', '0x00000001', '1700000000.123465789', '10.199.7.1'],
      ['3', 'srv/pp7s', 'pp7s (ifindex 3) in netns srv (4026532386)', '0x00000002', '1700000000.123486789', '10.199.7.2'],
    ]);
    assert.equal(rows[1]![6], STORY.join(','), 'every comment, in order');
    assert.equal(rows[2]![6], '');
  });
});

test('tcpdump reads the file (libpcap wants one link type for all interfaces: Linux cooked v2)', (t) => {
  if (!have('tcpdump')) return t.skip('tcpdump is not installed');
  withFile((path) => {
    const r = spawnSync('tcpdump', ['-n', '-r', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /link-type LINUX_SLL2/);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /Out IP 10\.199\.7\.1\.40000 > 10\.199\.7\.2\.8080: Flags \[S\]/);
    assert.match(lines[1]!, /In {2}IP 10\.199\.7\.1\.40000 > 10\.199\.7\.2\.8080: Flags \[S\]/);
    assert.match(lines[2]!, /Out IP 10\.199\.7\.2\.8080 > 10\.199\.7\.1\.40000: Flags \[R\.\]/);
  });
});

test('packet blocks: every padding byte is zero, whatever the writer\'s buffer held before', (t) => {
  // the writer's chunks as allocUnsafe may give them: not zeroed
  const alloc = Buffer.alloc;
  t.mock.method(Buffer, 'allocUnsafe', (n: number) => alloc(n, 0xa5));
  const chunks: Buffer[] = [];
  const w = new PcapngWriter((b) => chunks.push(b), { application: 't' });
  const id = w.interfaceId({ netns: 'n', dev: 'd', linkType: 276, snaplen: 256 });
  for (let n = 1; n <= 9; n++) w.packet({ iface: id, tsNs: T0, data: syn.subarray(0, 20 + n), origLen: 99, dir: 'in', comments: ['x'.repeat(n), 'é'.repeat(n)], packetId: BigInt(n) });
  w.flush();
  const file = Buffer.concat(chunks);
  let blocks = 0;
  for (let at = 0; at < file.length; at += file.readUInt32LE(at + 4)) {
    if (file.readUInt32LE(at) !== 6) continue;
    blocks++;
    const cap = file.readUInt32LE(at + 20);
    const end = at + file.readUInt32LE(at + 4) - 4;
    let o = at + 28 + ((cap + 3) & ~3);
    assert.ok(file.subarray(at + 28 + cap, o).every((b) => b === 0), 'data padding');
    for (;;) {
      const [code, n] = [file.readUInt16LE(o), file.readUInt16LE(o + 2)];
      if (code === 0) break;
      assert.ok(file.subarray(o + 4 + n, o + 4 + ((n + 3) & ~3)).every((b) => b === 0), `padding of option ${code} (${n} bytes)`);
      o += 4 + ((n + 3) & ~3);
    }
    assert.deepEqual([file.readUInt16LE(o + 2), o + 4], [0, end], 'opt_endofopt, then the block ends');
  }
  assert.equal(blocks, 9);
});
