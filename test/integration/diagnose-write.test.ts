/**
 * `pktpath diagnose --duration 3s -w FILE`: the packets written as trace -w writes them
 * (a copy per device and namespace, the kernel's path in each comment), and at the end
 * the findings on the packets that are their evidence and the verdict in the section
 * header. A SYN to a closed port between two namespaces; the file is read with tshark and
 * capinfos.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKTPATH_BIN, REPO_ROOT, requireRoot, withTopology } from '../helpers/netns.js';
import type { Report } from '../../src/diagnose/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pktpath-dwrite-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pktpath diagnose ...args`, calling `ready` once it says so. */
function diagnose(args: readonly string[], ready: () => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PKTPATH_BIN, ['diagnose', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!started && /\bready\b/.test(stderr)) {
        started = true;
        ready().catch(reject);
      }
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Row {
  iface: string;
  src: string;
  flags: string;
  comments: string[];
}

function tsharkRows(file: string): Row[] {
  const f = ['frame.interface_name', 'ip.src', 'tcp.flags.str', 'frame.comment'];
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...f.flatMap((x) => ['-e', x])], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tshark -r: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [iface, src, flags, ...rest] = l.split('|');
      const comments = rest.join('|').split(/,(?=(?:pktpath|path|netfilter|drop|finding)[: ])/);
      return { iface: iface!, src: src!, flags: flags!, comments };
    });
}

test('diagnose -w: packets with their path, the finding on its evidence, the verdict in the section header', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t, { commands: ['tshark', 'capinfos'] })) return;
  await withTopology(
    async (topo) => {
      const file = join(dir, 'refused.pcapng');
      const port = 40000 + ((process.pid + 3) % 20000);
      const r = await diagnose(['-H', topo.server.v4, '-P', String(port), '--proto', 'tcp', '--duration', '3s', '--json', '-w', file, '--snaplen', '128'], async () => {
        const c = await topo.connect(topo.client, topo.server.v4, port);
        assert.equal(c.outcome, 'refused');
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /pcapng: \d+ packet copies written to /);
      assert.match(r.stderr, /pcapng: the verdict in the file's comment, \d+ findings? on [1-9]\d* packet copies/);
      const rep = JSON.parse(r.stdout) as Report;
      const f = rep.findings.find((x) => x.rule === 'tcp.no-listener');
      assert.ok(f, JSON.stringify(rep.findings.map((x) => x.rule)));
      const rows = tsharkRows(file);
      // the SYN left the client and reached the server: a copy at each, each with the kernel's path
      const syn = rows.filter((x) => x.src === topo.client.v4 && x.flags.includes('S'));
      const where = new Set(syn.map((x) => x.iface));
      assert.ok(where.has(`${topo.client.ns}/${topo.client.ifname}`) && where.has(`${topo.server.ns}/${topo.server.ifname}`), [...where].join(', '));
      for (const x of rows) assert.ok(x.comments.some((c) => c.startsWith('path: ')), `no path: ${x.comments.join(' / ')}`);
      // the refused SYN is the finding's evidence: its copies carry the finding's number, rule and verdict
      const line = `pktpath finding ${f.n} [tcp.no-listener] ${f.level}: ${f.verdict}`;
      const marked = rows.filter((x) => x.comments.includes(line));
      assert.ok(marked.length >= 1, `no packet carries "${line}"`);
      // the refused SYN's copies (the anchor), and the reset that answered it (more evidence), nothing else
      assert.ok(marked.filter((x) => x.comments.some((c) => /^drop: NO_SOCKET/.test(c))).length >= 2, `the dropped SYN's copies: ${JSON.stringify(marked, null, 1)}`);
      for (const x of marked) assert.ok((x.src === topo.client.v4 && x.flags.includes('S')) || (x.src === topo.server.v4 && x.flags.includes('R')), JSON.stringify(x));
      // a display filter finds them
      const byFilter = spawnSync('tshark', ['-r', file, '-Y', `frame.comment contains "pktpath finding ${f.n} "`], { encoding: 'utf8' });
      assert.equal(byFilter.stdout.trim().split('\n').filter(Boolean).length, marked.length);
      // the verdict and the findings are the capture's comments
      const ci = spawnSync('capinfos', [file], { encoding: 'utf8' });
      assert.equal(ci.status, 0, ci.stderr);
      assert.ok(ci.stdout.includes(`pktpath diagnosis: ${rep.verdict.text}`), ci.stdout);
      assert.ok(ci.stdout.includes(`${line} (evidence: `), ci.stdout);
      // the rewrite left no temporary file behind
      assert.deepEqual(readdirSync(dir).filter((x) => x.includes('.tmp')), []);
    },
    { tag: 'dwrite' },
  );
});

test('diagnose -w -: refused (standard output carries the report), exit 2', { timeout: 30_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const r = spawnSync(PKTPATH_BIN, ['diagnose', '--duration', '1s', '-w', '-'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^pktpath: diagnose -w needs a file: standard output carries the report\n$/);
});
