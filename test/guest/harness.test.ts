/**
 * The guest-kernel harness (scripts/vm/guest.sh) boots the Debian kernels our function-level
 * backends are tested on, and those guests have what the tests need: BTF, a traceable ip_rcv,
 * network namespaces joined by veth that can ping each other, loadable modules.
 *
 * Runs only as root and when scripts/vm/can-run.sh says the harness can run here; otherwise each
 * test is skipped with the reason it printed. The first run may take a minute (qemu install and
 * kernel download); later boots take a few seconds each (QEMU TCG, ~25x slower than the host
 * for CPU-bound work, so everything done inside is kept short).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file with scripts/vm/guest.sh (works from test/ and dist/test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'vm', 'guest.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find scripts/vm/guest.sh above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const REPO = repoRoot();
const GUEST = join(REPO, 'scripts', 'vm', 'guest.sh');
const CAN_RUN = join(REPO, 'scripts', 'vm', 'can-run.sh');
/** Generous: the first run installs qemu and downloads the kernel package. */
const TEST_TIMEOUT_MS = 15 * 60_000;

type Kernel = '6.12' | '6.1';

/** Why the guest harness cannot run here, or null when it can. */
function skipReason(kernel: Kernel): string | null {
  if (process.platform !== 'linux') return 'guest VM tests need Linux';
  if (process.getuid?.() !== 0) return 'guest VM tests need root';
  const r = spawnSync('bash', [CAN_RUN, '--kernel', kernel], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return null;
  const why = (r.stdout.trim() || r.stderr.trim() || `can-run.sh exited with ${String(r.status ?? r.signal)}`).split('\n')[0];
  return `guest VM harness unavailable: ${why}`;
}

interface GuestRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Boot the guest once and run a shell script in it (cwd = the repository, which the guest sees read-write). */
function runInGuest(kernel: Kernel, script: string): Promise<GuestRun> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('bash', [GUEST, '--kernel', kernel, '--', 'sh', '-c', script], {
      cwd: REPO,
      env: { ...process.env, PKTPATH_VM_TIMEOUT: process.env.PKTPATH_VM_TIMEOUT ?? '300' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr, wallMs: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

/** `key=value` lines printed by the guest script. */
function facts(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && /^[a-z_]+$/.test(line.slice(0, i))) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Common probe of a booted guest: kernel, BTF, ip_rcv traceable, time from boot to this script. */
const BASICS = `
echo "uptime_at_cmd=$(cut -d' ' -f1 /proc/uptime)"
echo "uname=$(uname -r)"
echo "nproc=$(nproc)"
if [ -e /sys/kernel/btf/vmlinux ]; then echo btf=yes; else echo btf=no; fi
if grep -qE '^ip_rcv( |$)' /sys/kernel/tracing/available_filter_functions; then echo ip_rcv=yes; else echo ip_rcv=no; fi
`;

/** Two namespaces joined by veth; addresses exist only inside them. */
const VETH_PING = `
ip netns add hv_a && ip netns add hv_b &&
ip link add hv_va netns hv_a type veth peer name hv_vb netns hv_b &&
ip -n hv_a addr add 10.200.0.1/24 dev hv_va && ip -n hv_b addr add 10.200.0.2/24 dev hv_vb &&
ip -n hv_a link set hv_va up && ip -n hv_b link set hv_vb up &&
ip -n hv_a link set lo up && ip -n hv_b link set lo up
echo "netns_setup=$?"
if ip netns exec hv_a ping -c1 -W2 10.200.0.2 >/dev/null; then echo ping=ok; else echo ping=fail; fi
`;

function describeRun(r: GuestRun): string {
  return `guest.sh exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function report(t: TestContext, kernel: Kernel, r: GuestRun, f: Map<string, string>): void {
  t.diagnostic(`${kernel}: guest.sh wall ${(r.wallMs / 1000).toFixed(1)} s, guest uptime at command ${f.get('uptime_at_cmd') ?? '?'} s` +
    (f.has('node_ms') ? `, node -e 0 ${f.get('node_ms')} ms` : ''));
}

test('guest 6.12: BTF, ip_rcv traceable, veth between namespaces pings', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = skipReason('6.12');
  if (reason) {
    t.skip(reason);
    return;
  }
  const node = sh(process.execPath);
  const r = await runInGuest('6.12', `${BASICS}${VETH_PING}
s=$(date +%s%N); ${node} -e 0; e=$(date +%s%N); echo "node_ms=$(( (e - s) / 1000000 ))"
`);
  const f = facts(r.stdout);
  report(t, '6.12', r, f);
  assert.equal(r.code, 0, describeRun(r));
  assert.match(f.get('uname') ?? '', /^6\.12/, describeRun(r));
  assert.equal(f.get('nproc'), '2', describeRun(r));
  assert.equal(f.get('btf'), 'yes', '/sys/kernel/btf/vmlinux missing\n' + describeRun(r));
  assert.equal(f.get('ip_rcv'), 'yes', 'ip_rcv not in available_filter_functions\n' + describeRun(r));
  assert.equal(f.get('netns_setup'), '0', 'netns/veth setup failed\n' + describeRun(r));
  assert.equal(f.get('ping'), 'ok', 'ping across the veth pair failed\n' + describeRun(r));
});

test('guest 6.1: boots the 6.1 kernel; exit code and stderr come back as they were', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = skipReason('6.1');
  if (reason) {
    t.skip(reason);
    return;
  }
  const r = await runInGuest('6.1', `${BASICS}\necho to-stderr >&2; exit 7\n`);
  const f = facts(r.stdout);
  report(t, '6.1', r, f);
  assert.equal(r.code, 7, describeRun(r));
  assert.match(f.get('uname') ?? '', /^6\.1\./, describeRun(r));
  assert.equal(f.get('btf'), 'yes', describeRun(r));
  assert.match(r.stderr, /^to-stderr$/m, describeRun(r));
  assert.doesNotMatch(r.stdout, /to-stderr/, describeRun(r));
});
