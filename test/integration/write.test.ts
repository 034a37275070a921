/**
 * `pktpath trace -w FILE`: the traced packets as pcapng, captured in the kernel. A SYN to
 * a closed port between two namespaces: the file reads in tshark and tcpdump, holds one
 * copy of the SYN per (namespace, device) it crossed, each comment names the event of
 * the same run's --json output it was taken at, and the SYN's copies carry its drop.
 * `-w -` feeds `tshark -r -`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKTPATH_BIN, haveCommand, requireRoot, spawnTrace, whileTracing, withTopology } from '../helpers/netns.js';
import type { Topology, TraceEvent } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'pktpath-write-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Row {
  n: number;
  iface: string;
  dir: string;
  src: string;
  flags: string;
  comments: string[];
}

function tsharkRows(file: string): Row[] {
  const f = ['frame.number', 'frame.interface_name', 'frame.packet_flags_direction', 'ip.src', 'tcp.flags.str', 'frame.comment'];
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...f.flatMap((x) => ['-e', x])], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tshark -r: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [n, iface, d, src, flags, ...rest] = l.split('|');
      // comments are joined by ',' and may hold commas: split before each known line start
      const comments = rest.join('|').split(/,(?=(?:pktpath|path|netfilter|drop|finding): )/);
      return { n: Number(n), iface: iface!, dir: d!, src: src!, flags: flags!, comments };
    });
}

/** "seen at PROBE on DEV in netns NS (event N)" of a copy's first comment. */
function vantage(c: string): { probe: string; dev: string; ns: string; event: number } {
  const m = /seen at (\S+) on (\S+) in netns (\S+) \(event (\d+)\)/.exec(c);
  assert.ok(m, c);
  return { probe: m[1]!, dev: m[2]!, ns: m[3]!, event: Number(m[4]) };
}

test('trace -w: tshark and tcpdump read it; a copy per device and namespace; comments match the --json events; the drop is in them', async (t) => {
  if (!requireRoot(t, { commands: ['tshark', 'tcpdump'] })) return;
  await withTopology(
    async (topo) => {
      const file = join(dir, 'syn.pcapng');
      const port = 40000 + (process.pid % 20000);
      const trace = await spawnTrace(['-H', topo.server.v4, '-P', String(port), '--proto', 'tcp', '-w', file, '--snaplen', '128', '--print']);
      const res = await whileTracing(trace, async () => {
        const c = await topo.connect(topo.client, topo.server.v4, port);
        assert.equal(c.outcome, 'refused');
        await trace.waitFor((e) => e.drop_reason === 'NO_SOCKET', 5000);
      });
      assert.match(res.stderr, /pcapng: \d+ packet copies written to /);
      const events: TraceEvent[] = res.events;
      const rows = tsharkRows(file);
      assert.ok(rows.length >= 4, `copies: ${rows.length}`);
      // every copy names the event it was taken at, and that event is the same in --json
      for (const r of rows) {
        const v = vantage(r.comments[0]!);
        const ev = events[v.event - 1];
        assert.ok(ev, `event ${v.event} of ${events.length}`);
        assert.deepEqual([ev.probe, ev.ifname, String(ev.netns_name ?? ev.netns)], [v.probe, v.dev, v.ns]);
        assert.equal(r.iface, `${v.ns}/${v.dev}`);
      }
      // the SYN: one copy leaving the client's veth, one reaching the server's, both with the drop
      const syn = rows.filter((r) => r.src === topo.client.v4 && r.flags.includes('S') && r.dir !== '');
      const where = new Set(syn.map((r) => `${r.iface} ${r.dir}`));
      assert.ok(where.has(`${topo.client.ns}/${topo.client.ifname} 0x00000002`), [...where].join(', '));
      assert.ok(where.has(`${topo.server.ns}/${topo.server.ifname} 0x00000001`), [...where].join(', '));
      const dropped = syn.filter((r) => r.comments.some((c) => /^drop: NO_SOCKET at tcp_v4_rcv/.test(c)));
      assert.ok(dropped.length >= 2, 'both copies of the refused SYN carry its drop reason');
      const drop = events.find((e) => e.drop_reason === 'NO_SOCKET')!;
      assert.ok(dropped[0]!.comments.some((c) => c.includes(`drop: NO_SOCKET at ${drop.location}`)), 'the same location as --json');
      // the reset the server answered with, as tcpdump reads it
      const td = spawnSync('tcpdump', ['-n', '-r', file], { encoding: 'utf8' });
      assert.equal(td.status, 0, td.stderr);
      assert.match(td.stdout, new RegExp(`${topo.server.v4.replace(/\./g, '\\.')}\\.${port} > ${topo.client.v4.replace(/\./g, '\\.')}\\.\\d+: Flags \\[R\\.\\]`));
      assert.equal(td.stdout.trim().split('\n').length, rows.length);
      // and pktpath analyze reads its own file: the refused connection, each copy counted once
      const an = spawnSync(PKTPATH_BIN, ['analyze', '--json', file], { encoding: 'utf8' });
      assert.equal(an.status, 0, an.stderr);
      assert.ok((JSON.parse(an.stdout) as { findings: { id: string }[] }).findings.some((f) => f.id === 'tcp.refused'));
    },
    { tag: 'write' },
  );
});

/**
 * Runs `pipeline` (a shell pipeline around pktpath trace, whose stderr goes to `err`) in the
 * background; once the trace says it is ready, one refused connection to the server's
 * `port`; then waits for the pipeline to end (a catch count ends the trace).
 */
function refusedWhileTracing(topo: Topology, port: number, pipeline: string, err: string): void {
  const sh = spawnSync(
    'sh',
    ['-c', `${pipeline} & i=0; until grep -q ready ${err} 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done; ip netns exec ${topo.client.ns} sh -c 'nc -z -w1 ${topo.server.v4} ${port}; true'; wait`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(sh.status, 0, sh.stderr);
}

test('trace -w FILE prints no event, as tcpdump -w: the packets are in the file', async (t) => {
  if (!requireRoot(t, { commands: ['tshark'] })) return;
  if (!haveCommand('sh')) return t.skip('needs sh');
  await withTopology(
    async (topo) => {
      const port = 40000 + ((process.pid + 11) % 20000);
      const [out, file] = [join(dir, 'quiet.txt'), join(dir, 'quiet.pcapng')];
      refusedWhileTracing(topo, port, `${PKTPATH_BIN} trace -H ${topo.server.v4} -P ${port} --proto tcp -c 6 -w ${file} >${out} 2>${out}.err`, `${out}.err`);
      assert.equal(readFileSync(out, 'utf8'), '', 'nothing on standard output');
      const err = readFileSync(`${out}.err`, 'utf8');
      assert.match(err, /pcapng: [1-9]\d* packet copies written to /);
      assert.match(err, /pktpath: 6 events, \d+ lost/, 'the catch count counts the events written');
      assert.ok(tsharkRows(file).length >= 2, 'the packets are in the file');
    },
    { tag: 'writequiet' },
  );
});

test('trace -w - | tshark -r -', async (t) => {
  if (!requireRoot(t, { commands: ['tshark'] })) return;
  if (!haveCommand('sh')) return t.skip('needs sh');
  await withTopology(
    async (topo) => {
      const port = 40000 + ((process.pid + 7) % 20000);
      const out = join(dir, 'piped.txt');
      // the trace ends by itself after 6 events (-c) and tshark reads the pcapng from the pipe
      refusedWhileTracing(topo, port, `${PKTPATH_BIN} trace -H ${topo.server.v4} -P ${port} --proto tcp -c 6 -w - 2>${out}.err | tshark -r - -T fields -e frame.interface_name -e frame.comment > ${out} 2>/dev/null`, `${out}.err`);
      const lines = spawnSync('cat', [out, `${out}.err`], { encoding: 'utf8' }).stdout;
      assert.match(lines, new RegExp(`${topo.client.ns}/${topo.client.ifname}\\tpktpath: tcp ${topo.client.v4.replace(/\./g, '\\.')}:\\d+ -> ${topo.server.v4.replace(/\./g, '\\.')}:${port} \\[SYN\\]`));
      assert.match(lines, /pcapng: \d+ packet copies written to standard output/);
    },
    { tag: 'writepipe' },
  );
});
