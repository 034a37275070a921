/**
 * Validation of `pktpath trace` options: raw commander values -> TraceOptions -> the
 * numeric fields of `struct pp_config` (bpf/event.h). Pure: resolving --netns to an
 * inode is OS work (src/kernel/io/netns.ts) and comes in as a number.
 *
 * Every problem is a UsageError with one line naming the option, the value and what was
 * expected, e.g.  invalid --port "70000": expected 1-65535
 */
import { UsageError } from '../shared/errors.js';
import type { TimeMode } from '../output/index.js';
import { parseAddr } from '../shared/addr.js';

export type Proto = 'tcp' | 'udp' | 'icmp' | 'any';

type RawValue = string | number | boolean | null | undefined;

/**
 * What commander hands over (camelCased long option names). Values are usually strings
 * (or booleans for flags); numbers are accepted too.
 *
 *   -H/--ipaddr  -P/--port  --proto  --icmpid  -p/--pid  -N/--netns  -i/--ifname
 *   --mark VALUE[/MASK]  -c/--catch-count (catchCount)
 *   -T/--time (date-time stamps)  -t/--timestamp (relative seconds)
 *   --json  --dropstack  --callstack  --verbose  --evidence
 */
export interface RawTraceOptions {
  ipaddr?: RawValue;
  port?: RawValue;
  proto?: RawValue;
  icmpid?: RawValue;
  pid?: RawValue;
  netns?: RawValue;
  ifname?: RawValue;
  mark?: RawValue;
  catchCount?: RawValue;
  time?: RawValue;
  timestamp?: RawValue;
  json?: RawValue;
  dropstack?: RawValue;
  callstack?: RawValue;
  verbose?: RawValue;
  backend?: RawValue;
  all?: RawValue;
  func?: RawValue;
  exclude?: RawValue;
  keep?: RawValue;
  route?: RawValue;
  iptable?: RawValue;
  write?: RawValue;
  snaplen?: RawValue;
  print?: RawValue;
  evidence?: RawValue;
}

/** --backend: which mechanism traces kernel functions ("tracepoints": none, "auto": the best that works). */
export type Backend = 'auto' | 'tracepoints' | 'fentry' | 'kprobe.multi' | 'kprobe';
export const BACKENDS: readonly Backend[] = ['auto', 'tracepoints', 'fentry', 'kprobe.multi', 'kprobe'];

export interface TraceOptions {
  /** -H: either side of the packet; an IPv4-mapped IPv6 address is taken as the IPv4 address */
  addr: { family: 4 | 6; bytes: Uint8Array; text: string } | null;
  /** -P: either side, TCP or UDP */
  port: number | null;
  /** --proto; "icmp" means ICMP or ICMPv6. --icmpid without --proto (or with "any") makes it "icmp". */
  proto: Proto;
  /** --icmpid: echo identifier */
  icmpId: number | null;
  /** -p: tgid of the current task */
  pid: number | null;
  /** -N: as given; src/kernel/io/netns.ts resolveNetns turns it into an inode */
  netns: string | null;
  /** -i */
  ifname: string | null;
  /** --mark VALUE[/MASK]: (skb->mark & mask) == value; mask 0xffffffff when not given */
  mark: { value: number; mask: number } | null;
  /** -c: stop after this many events */
  catchCount: number | null;
  /** -T -> datetime, -t -> relative, else default */
  time: TimeMode;
  json: boolean;
  /** --dropstack: stacks for drops only */
  dropStack: boolean;
  /** --callstack: stacks for every event */
  callStack: boolean;
  verbose: boolean;
  /** --backend, "auto" by default */
  backend: Backend;
  /** --all: every kernel function that takes an skb */
  allFuncs: boolean;
  /** --func REGEX: only functions matching */
  funcRegex: RegExp | null;
  /** --exclude REGEX */
  excludeRegex: RegExp | null;
  /** --keep: once a packet matched, follow its skb to the end */
  keep: boolean;
  /** --route: show route lookups (fib_table_lookup) with their result */
  route: boolean;
  /** --iptable: show the netfilter table/chain/verdict path */
  iptable: boolean;
  /** -w FILE: the traced packets as pcapng ("-": standard output) */
  write: string | null;
  /** --snaplen: packet bytes captured per event with -w */
  snaplen: number;
  /** --print: with -w FILE, print the events too (as tcpdump's --print) */
  print: boolean;
  /** --evidence: also attach the probes the diagnosis reads (probes.json "attach": evidence) */
  evidence: boolean;
}

/** Numeric fields of struct pp_config (bpf/event.h) that come from the options; the loader writes them. */
export type ConfigValues = {
  addr: Uint8Array; // 16 bytes, IPv4 in the first 4
  addr_family: number; // 0 = no address filter, 4, 6
  l4proto: number; // 0 any, 6 tcp, 17 udp, 1 icmp or icmpv6
  want_stack: number; // 0 none, 1 every event, 2 drops only
  port: number;
  icmp_id: number;
  has_icmp_id: number;
  has_mark: number;
  mark: number;
  mark_mask: number;
  pid: number;
  netns: number;
  has_ifname: number;
  ifname: Uint8Array; // 16 bytes, NUL padded
  keep: number; // 1 = follow a matched skb to its end
  snaplen: number; // -w: packet bytes per event, 0 = none (a run without -w copies nothing)
};

/** Highest pid Linux can hand out (PID_MAX_LIMIT on 64-bit). */
export const PID_MAX = 4_194_304;
export const IFNAMSIZ = 16;

function shown(v: RawValue): string {
  return JSON.stringify(String(v));
}

function bad(option: string, v: RawValue, expected: string): UsageError {
  return new UsageError(`invalid ${option} ${shown(v)}: ${expected}`);
}

function given(v: RawValue): v is string | number {
  return v !== undefined && v !== null && v !== false && v !== true;
}

function flag(v: RawValue): boolean {
  return v === true || v === 'true';
}

const DEC = /^[0-9]+$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;

/** Integer from a decimal (or with hex, 0x-hex) string or a number; null when malformed or out of range. */
function integer(v: string | number, min: number, max: number, hex = false): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (DEC.test(v) && v.length <= 16) n = Number(v);
  else if (hex && HEX.test(v) && v.length <= 18) n = parseInt(v.slice(2), 16);
  else return null;
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

function intOption(option: string, v: string | number, min: number, max: number, expected: string): number {
  const n = integer(v, min, max);
  if (n === null) throw bad(option, v, expected);
  return n;
}

/** Linux dev_valid_name(): 1-15 bytes, not "." or "..", no "/", ":" or whitespace (nor NUL). */
export function validIfname(name: string): boolean {
  if (name === '' || name === '.' || name === '..') return false;
  if (Buffer.byteLength(name, 'utf8') > IFNAMSIZ - 1) return false;
  return !/[/:\s\u0000]/.test(name);
}

function parseMark(v: string | number): { value: number; mask: number } {
  const expected = 'expected VALUE[/MASK], 32-bit numbers in decimal or 0x-hex';
  const text = String(v);
  const slash = text.indexOf('/');
  const valueText = slash < 0 ? text : text.slice(0, slash);
  const maskText = slash < 0 ? null : text.slice(slash + 1);
  const value = integer(typeof v === 'number' ? v : valueText, 0, 0xffffffff, true);
  const mask = maskText === null ? 0xffffffff : integer(maskText, 0, 0xffffffff, true);
  if (value === null || mask === null) throw bad('--mark', v, expected);
  if (mask === 0) throw bad('--mark', v, 'a mask of 0 matches every packet');
  if ((value & ~mask) >>> 0 !== 0) throw bad('--mark', v, 'the value has bits outside the mask, nothing could match');
  return { value, mask };
}

function addrOption(v: string | number): TraceOptions['addr'] {
  const text = String(v);
  const p = parseAddr(text);
  if (!p) throw bad('--ipaddr', v, 'expected an IPv4 or IPv6 address');
  const b = p.bytes;
  const mapped = p.family === 6 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? { family: 4, bytes: b.slice(12), text } : { family: p.family, bytes: b, text };
}

function protoOption(v: string | number): Proto {
  const p = String(v).toLowerCase();
  if (p !== 'tcp' && p !== 'udp' && p !== 'icmp' && p !== 'any') throw bad('--proto', v, 'expected tcp, udp, icmp or any');
  return p;
}

function netnsOption(v: string | number): string {
  if (String(v) === '') throw bad('--netns', v, 'expected an inode, a name under /run/netns or a path');
  return String(v);
}

function ifnameOption(v: string | number): string {
  if (!validIfname(String(v))) throw bad('--ifname', v, 'expected an interface name of 1-15 bytes without "/", ":" or blanks');
  return String(v);
}

function backendOption(v: string | number): Backend {
  if (!(BACKENDS as readonly string[]).includes(String(v))) throw bad('--backend', v, `expected ${BACKENDS.join(', ')}`);
  return String(v) as Backend;
}

const int =
  (option: string, min: number, max: number, expected: string) =>
  (v: string | number): number =>
    intOption(option, v, min, max, expected);

const regexOption =
  (option: string) =>
  (v: string | number): RegExp => {
    try {
      return new RegExp(String(v));
    } catch {
      throw bad(option, v, 'expected a regular expression');
    }
  };

type Draft = { -readonly [K in keyof TraceOptions]: TraceOptions[K] };
/** One step of the validation: reads raw values, fills the draft or throws UsageError. */
type Step = (raw: RawTraceOptions, o: Draft) => void;

/** A valued option: parsed when given, its default kept otherwise. */
function value<K extends keyof Draft>(from: keyof RawTraceOptions, key: K, parse: (v: string | number) => Draft[K]): Step {
  return (raw, o) => {
    const v = raw[from];
    if (given(v)) o[key] = parse(v);
  };
}

/** A flag: true when set. */
function flagged(from: keyof RawTraceOptions, key: 'json' | 'dropStack' | 'callStack' | 'verbose' | 'allFuncs' | 'keep' | 'route' | 'iptable' | 'evidence'): Step {
  return (raw, o) => void (o[key] = flag(raw[from]));
}

/** --port is tcp/udp, --icmpid icmp (and makes --proto icmp). */
const icmpRules: Step = (_raw, o) => {
  if (o.port !== null && o.proto === 'icmp') throw new UsageError('--port applies to tcp and udp, not to --proto icmp');
  if (o.icmpId === null) return;
  if (o.proto === 'tcp' || o.proto === 'udp') throw new UsageError(`--icmpid applies to icmp, not to --proto ${o.proto}`);
  if (o.port !== null) throw new UsageError('--icmpid and --port cannot be used together: one is icmp, the other tcp/udp');
  o.proto = 'icmp';
};

const functionRules: Step = (_raw, o) => {
  if (o.backend === 'tracepoints' && (o.allFuncs || o.funcRegex || o.excludeRegex)) {
    throw new UsageError('--all, --func and --exclude choose kernel functions: they need a function backend, not --backend tracepoints');
  }
};

/** -w writes the packets the kernel captured: --snaplen says how many bytes of each. */
export const DEFAULT_SNAPLEN = 256;
export const MAX_SNAPLEN = 4096; // PP_MAX_SNAP in bpf/event.h

const writeRules: Step = (raw, o) => {
  if (given(raw.snaplen) && o.write === null) throw new UsageError('--snaplen applies to -w FILE (the packets written as pcapng)');
  o.print = flag(raw.print);
  if (o.print && o.write === null) throw new UsageError('--print applies to -w FILE (without -w the events are printed anyway)');
  if (o.print && o.write === '-') throw new UsageError('--print cannot print the events to standard output: -w - writes the pcapng there');
};

function writeOption(v: string | number): string {
  const s = String(v);
  if (!s) throw bad('-w', v, 'expected a file name, or - for standard output');
  return s;
}

const timeRules: Step = (raw, o) => {
  const datetime = flag(raw.time);
  const relative = flag(raw.timestamp);
  if (datetime && relative) throw new UsageError('-T/--time and -t/--timestamp cannot be used together');
  o.time = datetime ? 'datetime' : relative ? 'relative' : 'default';
};

/** The validation, in the order problems are reported. */
const STEPS: readonly Step[] = [
  value('ipaddr', 'addr', addrOption),
  value('proto', 'proto', protoOption),
  value('port', 'port', int('--port', 1, 65535, 'expected 1-65535')),
  value('icmpid', 'icmpId', int('--icmpid', 0, 65535, 'expected 0-65535')),
  icmpRules,
  value('pid', 'pid', int('--pid', 1, PID_MAX, `expected a process id, 1-${PID_MAX}`)),
  value('netns', 'netns', netnsOption),
  value('ifname', 'ifname', ifnameOption),
  value('mark', 'mark', parseMark),
  value('catchCount', 'catchCount', int('--catch-count', 1, Number.MAX_SAFE_INTEGER, 'expected a positive integer')),
  value('backend', 'backend', backendOption),
  value('func', 'funcRegex', regexOption('--func')),
  value('exclude', 'excludeRegex', regexOption('--exclude')),
  flagged('all', 'allFuncs'),
  functionRules,
  timeRules,
  flagged('json', 'json'),
  flagged('dropstack', 'dropStack'),
  flagged('callstack', 'callStack'),
  flagged('verbose', 'verbose'),
  flagged('keep', 'keep'),
  flagged('route', 'route'),
  flagged('iptable', 'iptable'),
  value('write', 'write', writeOption),
  value('snaplen', 'snaplen', int('--snaplen', 64, MAX_SNAPLEN, `expected 64-${MAX_SNAPLEN} bytes`)),
  writeRules,
  flagged('evidence', 'evidence'),
];

/** The options when none is given. */
export const DEFAULT_OPTIONS: TraceOptions = {
  addr: null,
  port: null,
  proto: 'any',
  icmpId: null,
  pid: null,
  netns: null,
  ifname: null,
  mark: null,
  catchCount: null,
  time: 'default',
  json: false,
  dropStack: false,
  callStack: false,
  verbose: false,
  backend: 'auto',
  allFuncs: false,
  funcRegex: null,
  excludeRegex: null,
  keep: false,
  route: false,
  iptable: false,
  write: null,
  snaplen: DEFAULT_SNAPLEN,
  print: false,
  evidence: false,
};

/** Validates the raw option values; throws UsageError on the first problem. */
export function parseTraceOptions(raw: RawTraceOptions): TraceOptions {
  const o: Draft = { ...DEFAULT_OPTIONS };
  for (const step of STEPS) step(raw, o);
  return o;
}

const L4PROTO: Record<Proto, number> = { any: 0, tcp: 6, udp: 17, icmp: 1 };

/**
 * The pp_config fields for these options. `netnsInode` is resolveNetns(opts.netns), 0 for
 * any namespace. Kernel-feature fields (has_kfree_reason, has_rst_reason, ...) are the loader's.
 */
export function configValues(opts: TraceOptions, netnsInode = 0): ConfigValues {
  if (!Number.isInteger(netnsInode) || netnsInode < 0 || netnsInode > 0xffffffff) {
    throw new RangeError(`netns inode ${netnsInode} out of range`);
  }
  const addr = new Uint8Array(16);
  if (opts.addr) addr.set(opts.addr.bytes.subarray(0, opts.addr.family === 4 ? 4 : 16));
  const ifname = new Uint8Array(IFNAMSIZ);
  if (opts.ifname !== null) ifname.set(Buffer.from(opts.ifname, 'utf8').subarray(0, IFNAMSIZ - 1));
  return {
    addr,
    addr_family: opts.addr ? opts.addr.family : 0,
    l4proto: L4PROTO[opts.proto],
    want_stack: opts.callStack ? 1 : opts.dropStack ? 2 : 0,
    port: opts.port ?? 0,
    icmp_id: opts.icmpId ?? 0,
    has_icmp_id: opts.icmpId !== null ? 1 : 0,
    has_mark: opts.mark ? 1 : 0,
    mark: opts.mark ? opts.mark.value : 0,
    mark_mask: opts.mark ? opts.mark.mask : 0,
    pid: opts.pid ?? 0,
    netns: netnsInode,
    has_ifname: opts.ifname !== null ? 1 : 0,
    ifname,
    keep: opts.keep ? 1 : 0,
    snaplen: opts.write !== null ? opts.snaplen : 0,
  };
}
