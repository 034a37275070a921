/**
 * `pktpath diagnose` end to end: bad input is one line and exit 2; a command's closed-port
 * connect gives the no-listener verdict in the --json report, with the command's own
 * output and status shown; --duration watches existing traffic; SIGINT in the middle
 * still prints the report of what was seen; nothing stays attached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PKTPATH_BIN, REPO_ROOT, requireRoot, runCli } from '../helpers/netns.js';
import { buildScene, connectPy } from '../helpers/scenes.js';
import type { Report } from '../../src/diagnose/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pktpath diagnose ...args`; `interrupt` sends SIGINT after that many ms. */
function diagnose(args: readonly string[], interruptMs?: number, timeoutMs = 40_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(PKTPATH_BIN, ['diagnose', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    if (interruptMs !== undefined) {
      const poll = setInterval(() => {
        if (!/\bready\b/.test(stderr)) return;
        clearInterval(poll);
        setTimeout(() => child.kill('SIGINT'), interruptMs);
      }, 50);
    }
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

test('bad input: one line on stderr, exit 2, no stack trace', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const cases: [string[], RegExp][] = [
    [[], /needs a command after -- .* or --duration/],
    [['--duration', 'soon'], /invalid --duration "soon"/],
    [['-P', '70000', '--', 'true'], /invalid --port "70000"/],
    [['-H', '127.0.0.1', '-P', '9', '--', '/no/such/program'], /cannot run \/no\/such\/program: not an executable file/],
    [['--duration', '1s', 'tcp port'], /syntax error/],
    [['--duration', '1s', '--iptable', 'tcp port 80'], /--iptable with an expression/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(['diagnose', ...args], 30_000);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('pktpath: ') && !/ready|events, \d+ lost/.test(l));
    assert.equal(lines.length, 1, `${args.join(' ')}: one line expected:\n${r.stderr}`);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('diagnose -- CMD: a refused connect gives the no-listener verdict; the command\'s output and status are shown', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const s = buildScene('cli');
  try {
    const port = 23000 + (process.pid % 1000);
    const r = await diagnose(['-H', s.v4.srv, '-P', String(port), '--proto', 'tcp', '--json', '--grace', '500ms', '--', 'ip', 'netns', 'exec', s.ns.cli, '/usr/bin/python3', '-c', connectPy(s.v4.srv, port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ECONNREFUSED/, 'the command\'s own output');
    assert.match(r.stderr, /exited with status 0/);
    const rep = JSON.parse(r.stdout) as Report;
    assert.equal(rep.schema, 'pktpath.diagnosis/1');
    assert.equal(rep.verdict.level, 'error');
    const f = rep.findings[rep.verdict.finding! - 1]!;
    assert.equal(f.rule, 'tcp.no-listener', JSON.stringify(rep.findings));
    assert.equal(f.where.netns, s.inode.srv);
    assert.ok(rep.flows.length >= 1 && rep.flows[0]!.paths.length >= 1);
  } finally {
    s.destroy();
  }
});

test('diagnose --duration watches existing traffic; SIGINT in the middle still gives the report so far', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const s = buildScene('dur');
  try {
    // pings for as long as two loads may take on a busy machine (7 s each seen), not a fixed 6 s
    const pinger = s.sh('cli', `ping -c 100 -i 0.2 ${s.v4.srv} >/dev/null`, { allowFail: true, timeoutMs: 40_000 });
    await sleep(300);
    const r = await diagnose(['-H', s.v4.srv, '--proto', 'icmp', '--duration', '2s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^verdict: no drop, reset or delay found in \d+ events of 1 flow/m);
    assert.match(r.stdout, /tcpdump -i \S+ in netns \S+ would show \d+ packet/);
    const partial = await diagnose(['-H', s.v4.srv, '--proto', 'icmp', '--duration', '30s'], 1500);
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(partial.stdout, /^verdict: /m, `a report after SIGINT:\n${partial.stdout}\n${partial.stderr}`);
    assert.match(partial.stdout, /read \d+ events/);
    await pinger;
  } finally {
    s.destroy();
  }
});

test('diagnose EXPRESSION: the pcap-filter expression picks the flows in the kernel, as trace does', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const s = buildScene('dexp');
  try {
    // pings and a UDP datagram to a closed port, both to the server; the expression keeps the UDP only
    const pinger = s.sh('cli', `ping -c 100 -i 0.2 ${s.v4.srv} >/dev/null`, { allowFail: true, timeoutMs: 40_000 });
    const udp = s.sh('cli', `for i in $(seq 1 60); do echo x | nc -u -w0 ${s.v4.srv} 9; sleep 0.3; done`, { allowFail: true, timeoutMs: 40_000 });
    await sleep(300);
    const r = await diagnose(['--json', '--duration', '3s', `udp and dst port 9 and host ${s.v4.srv}`]);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { flows: { proto: string }[]; findings: { rule: string }[] };
    assert.ok(rep.flows.length >= 1, r.stdout);
    assert.deepEqual([...new Set(rep.flows.map((f) => f.proto))], ['udp'], `only the expression's flows: ${r.stdout}`);
    assert.ok(rep.findings.some((f) => f.rule === 'udp.no-port'), JSON.stringify(rep.findings));
    await Promise.all([pinger, udp]);
  } finally {
    s.destroy();
  }
});
