/**
 * Runs INSIDE a guest kernel (scripts/vm/guest.sh): the netfilter scenarios of
 * test/integration/netfilter.test.ts with a function backend and `--iptable` active in
 * the same trace, recorded to a JSON file that test/guest/netfilter.test.ts asserts on.
 *
 *   node dist/test/guest/nf-scenarios.js BACKEND OUT.json [--legacy-only] [--func RE]
 *
 * One routed topology, three namespaces:
 *
 *   cli 10.199.X.1 <== veth ==> 10.199.X.254 rtr 10.199.Z.254 <== veth ==> 10.199.Z.2 srv
 *
 * and ONE trace, `--backend BACKEND --iptable --route --proto any -H <cli>`, for the whole
 * run (starting a trace with a function backend costs 10-20 s under TCG). Every scenario
 * is arranged so that the traced packet carries the client's address:
 *
 *   (1) OUTPUT DROP of a SYN cli -> srv:P1 in the client
 *   (2) INPUT DROP of TCP resets in the client: cli connects to a closed port srv:P2, the
 *       reset srv -> cli is dropped where it arrives
 *   (3) FORWARD REJECT (icmp admin-prohibited) of cli -> srv:P3 in the router; the ICMP
 *       3/13 goes back to the client
 *   (4) DNAT in the client's nat OUTPUT: cli -> VIP:80 becomes cli -> srv:8080
 *   (5) reverse-path filter as a rule in the client's prerouting: srv pings the client from
 *       a spoofed source (an address nobody has a route to)
 *
 * They run in three phases, with iptables-nft rules, with native nftables rules in a table
 * of our own (inet usertbl), and with iptables-legacy rules; each phase has its own ports,
 * VIP and spoofed source, and the first two phases' rules are removed before the next one
 * starts. The iptables-legacy phase has a topology of its own, with the SAME addresses
 * (namespaces pp-gnf-PID-2-*, so `-H <cli>` matches both): pktpath hooks its BPF netfilter
 * observers around the legacy tables it finds when it starts, so the legacy rules (and the
 * x_tables modules, for fexit on ipt_do_table) must be in place before the trace, and must
 * not sit next to the other phases' rules (an nftables drop at the filter table's priority
 * would look like a legacy drop to the observers). Scenarios run one at a time, and
 * the runner waits for each one's expected events before the next (and before rules are
 * removed: nft trace names a rule by looking it up). A last phase turns the rp_filter
 * sysctl on in the client (no rule): the kernel's own IP_RPFILTER drop and the failed
 * reverse route lookup (--route).
 *
 * --legacy-only (the 6.1 guest: no BPF netfilter programs there, and a slow CPU): only the
 * iptables-legacy phase and only its OUTPUT DROP scenario; --func RE narrows the traced
 * functions (a function backend is still needed for fexit on ipt_do_table).
 *
 * The runner only drives traffic and records; it checks nothing. Whatever it cannot do
 * (a tool missing in the guest) is recorded as a skip reason for the host side to print.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { kernelRelease } from '../../src/kernel/io/kernel.js';
import {
  allocateSubnet,
  deleteNetnsSync,
  exec,
  haveCommand,
  ipSync,
  recordNamespaces,
  releaseSubnet,
  spawnTrace,
  tcpConnect,
  tcpFlags,
  tcpListen,
  vethPair,
} from '../helpers/netns.js';
import type { TcpListener, TraceEvent, TraceResult, TraceRun, VethEnd } from '../helpers/netns.js';

// ------------------------------------------------------------------ shared with the host side (types only)

export type NfVariant = 'iptables' | 'nft' | 'legacy';
export type NfScenario = 'outDrop' | 'rst' | 'fwd' | 'dnat' | 'rp';

/** One end of a veth pair. */
export type NfEnd = VethEnd;

/** The four ends of the routed topology. */
export interface NfEnds {
  cli: NfEnd;
  rtrC: NfEnd;
  rtrS: NfEnd;
  srv: NfEnd;
}

/** One phase: the five scenarios with one kind of rules. */
export interface NfPhase {
  variant: NfVariant;
  label: string;
  /** the phase's own topology (iptables-legacy: same addresses, other namespaces); else the results' cli/rtrC/rtrS/srv */
  ends?: NfEnds;
  /** the scenarios this run drives (the others have no window) */
  scenarios: NfScenario[];
  /** why this phase did not run (the host side skips its tests with this reason) */
  skipped?: string;
  /** (1) OUTPUT DROP, (2) reset drop, (3) FORWARD REJECT destination ports */
  ports: { outDrop: number; rst: number; fwd: number };
  /** (4) the virtual address DNAT'd to srv:DNAT_PORT, port 80 */
  vip: string;
  /** (5) the spoofed source srv pings the client from */
  spoof: string;
  /** the table/chain names the rules live in, per scenario */
  where: Record<NfScenario, { table: string; chain: string }>;
  /** what the traffic generators saw, per scenario (e.g. "timeout", "error EHOSTUNREACH") */
  outcomes: Record<string, string>;
  /** expected events the runner waited for, and whether they came */
  waited: Record<string, boolean>;
  /** per scenario: CLOCK_MONOTONIC ns (the events' ts_ns) before its traffic and after its wait, as decimal strings */
  windows: Partial<Record<NfScenario, [string, string]>>;
  /** the rules as loaded (`nft list ruleset`, or `iptables-legacy-save`, of cli and rtr) */
  ruleset: string;
  /** what went wrong while driving this phase */
  errors: string[];
  ms: number;
}

export interface NfGuestResults {
  backend: string;
  /** the runner's flags (--legacy-only, --func RE) */
  flags: string[];
  kernel: string;
  tools: Record<string, string>;
  cli: NfEnd;
  rtrC: NfEnd;
  rtrS: NfEnd;
  srv: NfEnd;
  dnatPort: number;
  phases: NfPhase[];
  /** the last phase: rp_filter sysctl, no rule */
  sysctl: { spoof: string; outcome: string; waited: boolean; window?: [string, string]; skipped?: string; errors: string[] };
  run?: { args: string[]; readyMs: number; result: TraceResult };
  /** a failure that ended the run early */
  error?: string;
  /** guest uptime (s) when the runner started and when it finished */
  uptime: { start: number; end: number };
  timings: Record<string, number>;
}

// ------------------------------------------------------------------ constants

const READY_MS = 300_000;
const STOP_MS = 120_000;
/** How long to wait for an expected event (they usually come within a second or two). */
const EXPECT_MS = 20_000;
/** Late nft trace paths (an ACCEPT path is delivered ~200 ms after its last line; slower in TCG). */
const SETTLE_MS = 1500;
const DNAT_PORT = 8080;
/** Scenario ports PORT_BASE+1.. : below the ephemeral range (32768-60999), so no connection's own port is taken for one */
const PORT_BASE = 21000;
const USER_TABLE = 'usertbl';
/** Spoofed sources 10.199.Y.<host> (srv has them; nobody has a route to 10.199.Y.0/24): one per phase, one for the sysctl. */
const PHASE_SPOOF_HOSTS = [50, 51, 52] as const;
const SYSCTL_SPOOF_HOST = 59;
/** The x_tables modules, loaded before the trace: pktpath plans fexit on ipt_do_table only if ip_tables is loaded when it starts. */
const XT_MODULES = ['ip_tables', 'iptable_filter', 'iptable_raw', 'iptable_nat', 'iptable_mangle'] as const;
const SCENARIOS: readonly NfScenario[] = ['outDrop', 'fwd', 'dnat', 'rst', 'rp'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

// ------------------------------------------------------------------ topology

interface Net extends NfEnds {
  /** the subnets: cli's, srv's, and the one spoofed sources are taken from (nobody has a route to it) */
  x: number;
  z: number;
  y: number;
  destroy(): void;
}

/**
 * The routed topology. `n` numbers the copy (namespaces pp-gnf-PID-n-*, interfaces
 * g<letter>X[c|r|s]); `reuse` builds a copy with the addresses of another one.
 */
function buildNet(n: number, letter: string, reuse?: { x: number; z: number; y: number }): Net {
  const subnets: number[] = [];
  const namespaces: string[] = [];
  const base = `pp-gnf-${process.pid}-${n}`;
  const record = (): void => {
    for (const x of subnets) recordNamespaces(x, namespaces);
  };
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const ns of [...namespaces].reverse()) {
      try {
        deleteNetnsSync(ns);
      } catch {
        /* the guest goes away anyway */
      }
    }
    for (const x of subnets) releaseSubnet(x);
  };
  process.on('exit', destroy);
  try {
    if (!reuse) for (let i = 0; i < 3; i++) subnets.push(allocateSubnet());
    const [x, z, y] = reuse ? [reuse.x, reuse.z, reuse.y] : (subnets as [number, number, number]);
    const netns = (role: string): string => {
      const name = `${base}-${role}`;
      ipSync(['netns', 'add', name]);
      namespaces.push(name);
      record();
      return name;
    };
    const nsC = netns('cli');
    const nsR = netns('rtr');
    const nsS = netns('srv');
    // one shell per namespace for its sysctls: every exec costs ~60 ms or more under TCG
    const sysctls: Record<string, string[]> = {
      [nsC]: ['ipv4/conf/all/rp_filter=0', 'ipv4/conf/default/rp_filter=0'],
      [nsR]: ['ipv4/ip_forward=1', 'ipv4/conf/all/rp_filter=0', 'ipv4/conf/default/rp_filter=0'],
      [nsS]: ['ipv4/conf/all/rp_filter=0', 'ipv4/conf/default/rp_filter=0'],
    };
    for (const [ns, kv] of Object.entries(sysctls)) {
      const script = kv.map((s) => s.split('=')).map(([k, v]) => `echo ${v} > /proc/sys/net/${k}`).join(' && ');
      execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', `ip link set lo up && ${script}`], { stdio: 'ignore', timeout: 20_000 });
    }
    const [cli, rtrC] = vethPair(nsC, `g${letter}${x}c`, `10.199.${x}.1`, nsR, `g${letter}${x}r`, `10.199.${x}.254`);
    const [srv, rtrS] = vethPair(nsS, `g${letter}${z}s`, `10.199.${z}.2`, nsR, `g${letter}${z}r`, `10.199.${z}.254`);
    for (const e of [cli, rtrC, srv, rtrS]) {
      // the per-device rp_filter: the effective value is max(all, device)
      execFileSync('ip', ['netns', 'exec', e.ns, 'sh', '-c', `echo 0 > /proc/sys/net/ipv4/conf/${e.ifname}/rp_filter`], { stdio: 'ignore', timeout: 20_000 });
    }
    ipSync(['-n', nsC, 'route', 'add', `10.199.${z}.0/24`, 'via', rtrC.v4]);
    ipSync(['-n', nsS, 'route', 'add', `10.199.${x}.0/24`, 'via', rtrS.v4]);
    // srv sends from spoofed sources: no ARP from a spoofed sender address toward the router
    for (const host of [...PHASE_SPOOF_HOSTS, SYSCTL_SPOOF_HOST]) ipSync(['-n', nsS, 'addr', 'add', `10.199.${y}.${host}/32`, 'dev', srv.ifname]);
    ipSync(['-n', nsS, 'neigh', 'replace', rtrS.v4, 'lladdr', rtrS.mac, 'dev', srv.ifname, 'nud', 'permanent']);
    return { cli, rtrC, rtrS, srv, x, z, y, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

// ------------------------------------------------------------------ rules

/** Load an nft script into a namespace (the file lives on the guest's /tmp tmpfs). */
async function nftApply(ns: string, script: string): Promise<void> {
  const file = `/tmp/pp-gnf-${process.pid}-${Date.now()}.nft`;
  writeFileSync(file, script);
  await exec(ns, ['nft', '-f', file], { timeoutMs: 30_000 });
}

function userChain(chain: string, spec: string, rules: readonly string[]): string {
  return [`  chain ${chain} {`, `    ${spec}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'].join('\n');
}

/** Install the phase's rules: iptables-nft commands, or one nft script per namespace. */
async function installRules(net: Net, ph: NfPhase): Promise<void> {
  const { cli, rtrC, srv } = net;
  const { outDrop, fwd } = ph.ports;
  if (ph.variant === 'legacy') {
    // one shell per namespace (every exec costs ~60 ms or more under TCG); the raw, mangle
    // and nat tables before filter make Mytracer's path of investigation 2
    const sh = (ns: string, cmds: string[][]): Promise<{ stdout: string }> =>
      exec(ns, ['sh', '-c', [...cmds.map((c) => ['iptables-legacy', ...c].join(' ')), 'iptables-legacy-save'].join(' && ')], { timeoutMs: 60_000 });
    const c = await sh(cli.ns, [
      ['-A', 'OUTPUT', '-d', srv.v4, '-p', 'tcp', '--dport', String(outDrop), '-j', 'DROP'],
      ['-A', 'INPUT', '-p', 'tcp', '--tcp-flags', 'RST', 'RST', '-j', 'DROP'],
      ['-t', 'nat', '-A', 'OUTPUT', '-d', ph.vip, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${srv.v4}:${DNAT_PORT}`],
      ['-t', 'raw', '-A', 'PREROUTING', '-m', 'rpfilter', '--invert', '-j', 'DROP'],
      ['-t', 'mangle', '-L', '-n', '>/dev/null'],
    ]);
    const r = await sh(rtrC.ns, [['-A', 'FORWARD', '-p', 'tcp', '--dport', String(fwd), '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited']]);
    ph.ruleset = `# ${cli.ns}\n${c.stdout}\n# ${rtrC.ns}\n${r.stdout}`;
    return;
  }
  if (ph.variant === 'iptables') {
    const ipt = (ns: string, args: string[]): Promise<unknown> => exec(ns, ['iptables', ...args], { timeoutMs: 30_000 });
    await ipt(cli.ns, ['-A', 'OUTPUT', '-d', srv.v4, '-p', 'tcp', '--dport', String(outDrop), '-j', 'DROP']);
    await ipt(cli.ns, ['-A', 'INPUT', '-p', 'tcp', '--tcp-flags', 'RST', 'RST', '-j', 'DROP']);
    await ipt(cli.ns, ['-t', 'nat', '-A', 'OUTPUT', '-d', ph.vip, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${srv.v4}:${DNAT_PORT}`]);
    await ipt(cli.ns, ['-t', 'raw', '-A', 'PREROUTING', '-m', 'rpfilter', '--invert', '-j', 'DROP']);
    await ipt(rtrC.ns, ['-A', 'FORWARD', '-p', 'tcp', '--dport', String(fwd), '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited']);
  } else {
    await nftApply(
      cli.ns,
      [
        `table inet ${USER_TABLE} {`,
        userChain('userout', 'type filter hook output priority 0', [`ip daddr ${srv.v4} tcp dport ${outDrop} drop`]),
        userChain('userin', 'type filter hook input priority 0', ['tcp flags & rst == rst drop']),
        userChain('usernat', 'type nat hook output priority -100', [`ip daddr ${ph.vip} tcp dport 80 dnat ip to ${srv.v4}:${DNAT_PORT}`]),
        userChain('userpre', 'type filter hook prerouting priority raw', ['fib saddr . iif oif missing drop']),
        '}',
        '',
      ].join('\n'),
    );
    await nftApply(rtrC.ns, [`table inet ${USER_TABLE} {`, userChain('userfwd', 'type filter hook forward priority 0', [`tcp dport ${fwd} reject with icmp type admin-prohibited`]), '}', ''].join('\n'));
  }
  const list = async (ns: string): Promise<string> => (await exec(ns, ['nft', '-a', 'list', 'ruleset'], { allowFail: true, timeoutMs: 30_000 })).stdout;
  ph.ruleset = `# ${cli.ns}\n${await list(cli.ns)}\n# ${rtrC.ns}\n${await list(rtrC.ns)}`;
}

/** Remove the phase's rules (the tables they live in), leaving pktpath's own table alone. */
async function removeRules(net: Net, ph: NfPhase): Promise<void> {
  const del = (tables: string[]): string => tables.map((t) => `delete table ${t}`).join('\n') + '\n';
  if (ph.variant === 'iptables') {
    await nftApply(net.cli.ns, del(['ip filter', 'ip nat', 'ip raw']));
    await nftApply(net.rtrC.ns, del(['ip filter']));
  } else {
    await nftApply(net.cli.ns, del([`inet ${USER_TABLE}`]));
    await nftApply(net.rtrC.ns, del([`inet ${USER_TABLE}`]));
  }
}

// ------------------------------------------------------------------ phases

const nfOf = (ev: TraceEvent): { table: string; chain: string; verdict: string; rule: string } | null =>
  ev.probe === 'netfilter' && ev.nf && typeof ev.nf === 'object' ? (ev.nf as { table: string; chain: string; verdict: string; rule: string }) : null;

async function spoofedPing(srvNs: string, cliV4: string, spoof: string): Promise<string> {
  const r = await exec(srvNs, ['ping', '-n', '-I', spoof, '-c', '1', '-W', '1', cliV4], { allowFail: true, timeoutMs: 15_000 });
  return (/\d+ packets transmitted, \d+ (?:packets )?received[^\n]*/.exec(r.stdout)?.[0] ?? `${r.stdout}${r.stderr}`.trim()) || `exit ${r.code}`;
}

async function runPhase(net: NfEnds, trace: TraceRun, ph: NfPhase): Promise<void> {
  const { cli, rtrC } = net;
  const srv = net.srv;
  const inNs = (ev: TraceEvent, end: NfEnd): boolean => ev.netns === end.inode;
  const connect = async (key: string, host: string, port: number, ms: number): Promise<void> => {
    try {
      const c = await tcpConnect(cli.ns, host, port, ms);
      ph.outcomes[key] = `${c.outcome}${c.detail ? ` ${c.detail}` : ''}`;
    } catch (err) {
      ph.outcomes[key] = `error ${(err as Error).message}`;
    }
  };
  const wait = async (what: Record<string, (ev: TraceEvent) => boolean>): Promise<void> => {
    const got = await Promise.all(Object.entries(what).map(async ([k, pred]) => [k, (await trace.waitFor(pred, EXPECT_MS)) !== undefined] as const));
    for (const [k, ok] of got) ph.waited[k] = ok;
  };
  // One scenario at a time, as in the integration test: under TCG, traffic generators
  // started together (a node process each) starve one another and the trace.
  const scenario = async (name: NfScenario, traffic: () => Promise<void>, what: Record<string, (ev: TraceEvent) => boolean>): Promise<void> => {
    if (!ph.scenarios.includes(name)) return;
    const t0 = process.hrtime.bigint(); // CLOCK_MONOTONIC, as the events' ts_ns
    await traffic();
    await wait(what);
    ph.windows[name] = [String(t0), String(process.hrtime.bigint())];
  };
  await scenario('outDrop', () => connect('outDrop', srv.v4, ph.ports.outDrop, 1200), {
    'outDrop nf DROP': (ev) => inNs(ev, cli) && nfOf(ev)?.verdict === 'DROP' && ev.tuple?.dport === ph.ports.outDrop,
    'outDrop kfree_skb': (ev) => inNs(ev, cli) && ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.tuple?.dport === ph.ports.outDrop,
  });
  await scenario('fwd', () => connect('fwd', srv.v4, ph.ports.fwd, 3000), {
    'fwd nf DROP': (ev) => inNs(ev, rtrC) && nfOf(ev)?.verdict === 'DROP' && ev.tuple?.dport === ph.ports.fwd,
    'fwd icmp back': (ev) => inNs(ev, cli) && ev.probe !== 'netfilter' && ev.tuple?.proto === 'icmp' && ev.tuple.icmp_type === 3,
  });
  await scenario('dnat', () => connect('dnat', ph.vip, 80, 5000), {
    'dnat nf step': (ev) => inNs(ev, cli) && /\bdnat\b/i.test(nfOf(ev)?.rule ?? '') && ev.tuple?.daddr === ph.vip,
  });
  await scenario('rst', () => connect('rst', srv.v4, ph.ports.rst, 1200), {
    'rst nf DROP': (ev) => inNs(ev, cli) && nfOf(ev)?.verdict === 'DROP' && ev.tuple?.sport === ph.ports.rst && tcpFlags(ev).includes('RST'),
  });
  await scenario(
    'rp',
    async () => {
      try {
        ph.outcomes.rp = await spoofedPing(net.srv.ns, net.cli.v4, ph.spoof);
      } catch (err) {
        ph.outcomes.rp = `error ${(err as Error).message}`;
      }
    },
    { 'rp nf DROP': (ev) => inNs(ev, cli) && nfOf(ev)?.verdict === 'DROP' && ev.tuple?.saddr === ph.spoof },
  );
  await sleep(SETTLE_MS); // late paths (retransmitted SYNs, ACCEPT paths) before the rules go
}

function newPhase(variant: NfVariant, n: number, net: Net, scenarios: readonly NfScenario[] = SCENARIOS): NfPhase {
  const iptables = variant !== 'nft';
  const z = net.srv.v4.split('.')[2];
  return {
    variant,
    label: { iptables: 'iptables-nft', nft: 'nftables', legacy: 'iptables-legacy' }[variant],
    scenarios: [...scenarios],
    ports: { outDrop: PORT_BASE + n * 10 + 1, rst: PORT_BASE + n * 10 + 2, fwd: PORT_BASE + n * 10 + 3 },
    vip: `10.199.${z}.${80 + n}`,
    spoof: `10.199.${net.y}.${PHASE_SPOOF_HOSTS[n]}`,
    where: iptables
      ? {
          outDrop: { table: 'filter', chain: 'OUTPUT' },
          rst: { table: 'filter', chain: 'INPUT' },
          fwd: { table: 'filter', chain: 'FORWARD' },
          dnat: { table: 'nat', chain: 'OUTPUT' },
          rp: { table: 'raw', chain: 'PREROUTING' },
        }
      : {
          outDrop: { table: USER_TABLE, chain: 'userout' },
          rst: { table: USER_TABLE, chain: 'userin' },
          fwd: { table: USER_TABLE, chain: 'userfwd' },
          dnat: { table: USER_TABLE, chain: 'usernat' },
          rp: { table: USER_TABLE, chain: 'userpre' },
        },
    outcomes: {},
    waited: {},
    windows: {},
    ruleset: '',
    errors: [],
    ms: 0,
  };
}

/** The guest's tools, and why a variant cannot run ('' when it can). */
function toolCheck(tools: Record<string, string>): { iptables: string; nft: string; ping: string; legacy: string } {
  const version = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0] ?? '';
    } catch (err) {
      return `failed: ${(err as Error).message.split('\n')[0]}`;
    }
  };
  const have = (c: string): boolean => haveCommand(c);
  tools.nft = have('nft') ? version('nft', ['--version']) : 'missing';
  tools.iptables = have('iptables') ? version('iptables', ['--version']) : 'missing';
  tools.ping = have('ping') ? 'present' : 'missing';
  tools.legacy = have('iptables-legacy') ? version('iptables-legacy', ['--version']) : 'missing';
  const nft = have('nft') ? '' : 'no `nft` in the guest (the host root shared over 9p has no nftables package)';
  const iptables = !have('iptables')
    ? 'no `iptables` in the guest (the host root has no iptables package)'
    : !tools.iptables.includes('nf_tables')
      ? `iptables in the guest is not iptables-nft (${tools.iptables}); nft trace does not see iptables-legacy rules`
      : '';
  const ping = have('ping') ? '' : 'no `ping` in the guest';
  const legacy = !have('iptables-legacy') || !have('iptables-legacy-save') ? 'no `iptables-legacy` / `iptables-legacy-save` in the guest (the host root has no iptables package)' : '';
  return { iptables, nft, ping, legacy };
}

// ------------------------------------------------------------------ main

/** The runner's flags: --legacy-only, --func RE. */
function parseFlags(argv: readonly string[]): { legacyOnly: boolean; func?: string } {
  const flags: { legacyOnly: boolean; func?: string } = { legacyOnly: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--legacy-only') flags.legacyOnly = true;
    else if (argv[i] === '--func' && argv[i + 1]) flags.func = argv[++i];
    else throw new Error(`unknown flag ${argv[i]}`);
  }
  return flags;
}

const endsOf = (n: Net): NfEnds => ({ cli: n.cli, rtrC: n.rtrC, rtrS: n.rtrS, srv: n.srv });

async function main(): Promise<void> {
  const [backend, out, ...rest] = process.argv.slice(2);
  if (!backend || !out) throw new Error('usage: nf-scenarios.js BACKEND OUT.json [--legacy-only] [--func RE]');
  const flags = parseFlags(rest);
  const t0 = Date.now();
  const start = uptime();
  const tools: Record<string, string> = {};
  const why = toolCheck(tools);
  // the main topology; the iptables-legacy phase gets a copy with the same addresses
  // (in --legacy-only runs the main one is the legacy one)
  const net = buildNet(1, flags.legacyOnly ? 'l' : 'n');
  const lnet = flags.legacyOnly || why.legacy || why.nft ? net : buildNet(2, 'l', net);
  const timings: Record<string, number> = { topologyMs: Date.now() - t0 };
  const phases = flags.legacyOnly ? [newPhase('legacy', 2, net, ['outDrop'])] : [newPhase('iptables', 0, net), newPhase('nft', 1, net), newPhase('legacy', 2, lnet)];
  const legacyPhase = phases.find((p) => p.variant === 'legacy')!;
  legacyPhase.ends = endsOf(lnet);
  const results: NfGuestResults = {
    backend,
    flags: rest,
    kernel: kernelRelease(),
    tools,
    cli: net.cli,
    rtrC: net.rtrC,
    rtrS: net.rtrS,
    srv: net.srv,
    dnatPort: DNAT_PORT,
    phases,
    sysctl: { spoof: `10.199.${net.y}.${SYSCTL_SPOOF_HOST}`, outcome: '', waited: false, errors: [] },
    uptime: { start, end: NaN },
    timings,
  };
  for (const ph of results.phases) {
    const reason = why.nft || (ph.variant === 'iptables' ? why.iptables : '') || (ph.variant === 'legacy' ? why.legacy : '') || why.ping;
    if (reason) ph.skipped = reason;
  }
  if (why.ping) results.sysctl.skipped = why.ping;
  if (flags.legacyOnly) results.sysctl.skipped = 'not in a --legacy-only run';
  if (why.nft) results.sysctl.skipped = why.nft; // --iptable needs nft for the whole trace
  const listeners: TcpListener[] = [];
  let trace: TraceRun | undefined;
  try {
    if (why.nft) return;
    const active = results.phases.filter((ph) => !ph.skipped);
    const legacy = active.find((ph) => ph.variant === 'legacy');
    const first = active.find((ph) => ph.variant !== 'legacy');
    // Rules that go in before the trace starts. The first phase's, as in the integration
    // test: the modules they load (nf_tables: nft_do_chain*) are then among the functions
    // traced. The legacy phase's: the observers are planned around the legacy tables pktpath
    // finds at start, and fexit on ipt_do_table needs ip_tables loaded by then.
    if (first) await installRules(net, first);
    timings.firstRulesMs = Date.now() - t0 - timings.topologyMs!;
    if (legacy) {
      const tl = Date.now();
      execFileSync('sh', ['-c', XT_MODULES.map((m) => `modprobe ${m}`).join(' && ')], { stdio: 'ignore', timeout: 60_000 });
      timings.modprobeMs = Date.now() - tl;
      await installRules(lnet, legacy);
      timings.legacyRulesMs = Date.now() - tl; // modprobe included
    }
    if (active.some((ph) => ph.scenarios.includes('dnat'))) listeners.push(await tcpListen(net.srv.ns, net.srv.v4, DNAT_PORT, 600_000));
    if (legacy && lnet !== net && legacy.scenarios.includes('dnat')) listeners.push(await tcpListen(lnet.srv.ns, lnet.srv.v4, DNAT_PORT, 600_000));

    const args = ['--backend', backend, '--iptable', '--route', '--verbose', '--proto', 'any', '-H', net.cli.v4, ...(flags.func ? ['--func', flags.func] : [])];
    const tr = Date.now();
    trace = await spawnTrace(args, { readyTimeoutMs: READY_MS });
    const readyMs = Date.now() - tr;
    timings.readyMs = readyMs;

    for (const ph of active) {
      const tp = Date.now();
      try {
        if (ph !== first && ph !== legacy) await installRules(net, ph);
        await runPhase(ph.ends ?? net, trace, ph);
      } catch (err) {
        ph.errors.push((err as Error).stack ?? String(err));
      }
      // the legacy rules stay (their namespaces go at the end): nothing runs there after them
      if (ph !== legacy) {
        try {
          await removeRules(net, ph);
        } catch (err) {
          ph.errors.push(`removing the rules: ${(err as Error).message}`);
        }
      }
      ph.ms = Date.now() - tp;
    }

    if (!results.sysctl.skipped) {
      const ts = Date.now();
      const sc = results.sysctl;
      try {
        await exec(net.cli.ns, ['sh', '-c', `echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter && echo 1 > /proc/sys/net/ipv4/conf/${net.cli.ifname}/rp_filter`]);
        const w0 = process.hrtime.bigint();
        sc.outcome = await spoofedPing(net.srv.ns, net.cli.v4, sc.spoof);
        sc.waited =
          (await trace.waitFor((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'IP_RPFILTER' && ev.tuple?.saddr === sc.spoof, EXPECT_MS)) !== undefined;
        sc.window = [String(w0), String(process.hrtime.bigint())];
        await sleep(SETTLE_MS);
      } catch (err) {
        sc.errors.push((err as Error).stack ?? String(err));
      }
      timings.sysctlMs = Date.now() - ts;
    }

    const ts = Date.now();
    const result = await trace.stop(STOP_MS);
    timings.stopMs = Date.now() - ts;
    results.run = { args, readyMs, result };
  } catch (err) {
    results.error = (err as Error).stack ?? String(err);
    if (trace) {
      try {
        const result = await trace.stop(STOP_MS);
        results.run = { args: trace.argv, readyMs: timings.readyMs ?? NaN, result };
      } catch {
        /* recorded above */
      }
    }
  } finally {
    await Promise.all(listeners.map((l) => l.close().catch(() => undefined)));
    if (lnet !== net) lnet.destroy();
    net.destroy();
    timings.totalMs = Date.now() - t0;
    results.uptime.end = uptime();
    writeFileSync(out, JSON.stringify(results));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`nf-scenarios: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
