import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../shared/errors.js';
import { configValues, parseTraceOptions, validIfname } from './options.js';
import type { RawTraceOptions, TraceOptions } from './options.js';

const DEFAULTS: TraceOptions = {
  addr: null, port: null, proto: 'any', icmpId: null, pid: null, netns: null, ifname: null, mark: null,
  catchCount: null, time: 'default', json: false, dropStack: false, callStack: false, verbose: false,
  backend: 'auto', allFuncs: false, funcRegex: null, excludeRegex: null, keep: false, route: false, iptable: false, write: null, snaplen: 256, print: false, evidence: false,
};

test('parseTraceOptions accepts', () => {
  const cases: [string, RawTraceOptions, Partial<TraceOptions>][] = [
    ['nothing', {}, {}],
    ['undefined and false values', { ipaddr: undefined, port: undefined, json: false, time: false }, {}],
    ['ipv4', { ipaddr: '192.168.88.154' }, { addr: { family: 4, bytes: Uint8Array.from([192, 168, 88, 154]), text: '192.168.88.154' } }],
    ['ipv6', { ipaddr: 'fd00::1' }, { addr: { family: 6, bytes: Uint8Array.from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), text: 'fd00::1' } }],
    ['ipv4-mapped is ipv4', { ipaddr: '::ffff:10.0.0.1' }, { addr: { family: 4, bytes: Uint8Array.from([10, 0, 0, 1]), text: '::ffff:10.0.0.1' } }],
    ['port', { port: '8080' }, { port: 8080 }],
    ['port bounds', { port: '65535' }, { port: 65535 }],
    ['port as number', { port: 1 }, { port: 1 }],
    ['port with tcp', { port: '22', proto: 'tcp' }, { port: 22, proto: 'tcp' }],
    ['proto udp', { proto: 'udp' }, { proto: 'udp' }],
    ['proto upper case', { proto: 'ICMP' }, { proto: 'icmp' }],
    ['proto any', { proto: 'any' }, { proto: 'any' }],
    ['icmpid implies icmp', { icmpid: '22' }, { icmpId: 22, proto: 'icmp' }],
    ['icmpid 0', { icmpid: '0', proto: 'icmp' }, { icmpId: 0, proto: 'icmp' }],
    ['icmpid with any', { icmpid: '65535', proto: 'any' }, { icmpId: 65535, proto: 'icmp' }],
    ['pid', { pid: '1' }, { pid: 1 }],
    ['evidence', { evidence: true }, { evidence: true }],
    ['backend kprobe.multi', { backend: 'kprobe.multi' }, { backend: 'kprobe.multi' }],
    ['function choice', { all: true, func: '^ip_', exclude: 'finish$', keep: true }, { allFuncs: true, funcRegex: /^ip_/, excludeRegex: /finish$/, keep: true }],
    ['pid max', { pid: '4194304' }, { pid: 4194304 }],
    ['netns kept raw', { netns: 'blue' }, { netns: 'blue' }],
    ['netns inode', { netns: '4026531992' }, { netns: '4026531992' }],
    ['ifname', { ifname: 'eth0' }, { ifname: 'eth0' }],
    ['ifname 15', { ifname: 'abcdefghijklmno' }, { ifname: 'abcdefghijklmno' }],
    ['ifname odd but valid', { ifname: 'veth-a.b_c@1' }, { ifname: 'veth-a.b_c@1' }],
    ['mark decimal', { mark: '10' }, { mark: { value: 10, mask: 0xffffffff } }],
    ['mark hex with mask', { mark: '0x100/0xff00' }, { mark: { value: 0x100, mask: 0xff00 } }],
    ['mark max', { mark: '0xffffffff' }, { mark: { value: 0xffffffff, mask: 0xffffffff } }],
    ['mark 0 masked', { mark: '0/0x1' }, { mark: { value: 0, mask: 1 } }],
    ['catch count', { catchCount: '3' }, { catchCount: 3 }],
    ['-T', { time: true }, { time: 'datetime' }],
    ['-t', { timestamp: true }, { time: 'relative' }],
    ['flags', { json: true, dropstack: true, callstack: true, verbose: true },
      { json: true, dropStack: true, callStack: true, verbose: true }],
  ];
  for (const [name, raw, want] of cases) {
    assert.deepEqual(parseTraceOptions(raw), { ...DEFAULTS, ...want }, name);
  }
});

test('parseTraceOptions rejects with one clear line', () => {
  const cases: [RawTraceOptions, string][] = [
    [{ port: '70000' }, 'invalid --port "70000": expected 1-65535'],
    [{ backend: 'ebpf' }, 'invalid --backend "ebpf": expected auto, tracepoints, fentry, kprobe.multi, kprobe'],
    [{ func: '(' }, 'invalid --func "(": expected a regular expression'],
    [{ backend: 'tracepoints', all: true }, '--all, --func and --exclude choose kernel functions: they need a function backend, not --backend tracepoints'],
    [{ port: '0' }, 'invalid --port "0": expected 1-65535'],
    [{ port: '-1' }, 'invalid --port "-1": expected 1-65535'],
    [{ port: '80a' }, 'invalid --port "80a": expected 1-65535'],
    [{ port: ' 80' }, 'invalid --port " 80": expected 1-65535'],
    [{ port: '' }, 'invalid --port "": expected 1-65535'],
    [{ port: '1e3' }, 'invalid --port "1e3": expected 1-65535'],
    [{ port: '0x50' }, 'invalid --port "0x50": expected 1-65535'],
    [{ port: 1.5 }, 'invalid --port "1.5": expected 1-65535'],
    [{ ipaddr: '1.2.3' }, 'invalid --ipaddr "1.2.3": expected an IPv4 or IPv6 address'],
    [{ ipaddr: '256.1.1.1' }, 'invalid --ipaddr "256.1.1.1": expected an IPv4 or IPv6 address'],
    [{ ipaddr: 'example.com' }, 'invalid --ipaddr "example.com": expected an IPv4 or IPv6 address'],
    [{ ipaddr: 'a\nb' }, 'invalid --ipaddr "a\\nb": expected an IPv4 or IPv6 address'],
    [{ proto: 'sctpx' }, 'invalid --proto "sctpx": expected tcp, udp, icmp or any'],
    [{ proto: '' }, 'invalid --proto "": expected tcp, udp, icmp or any'],
    [{ icmpid: '65536' }, 'invalid --icmpid "65536": expected 0-65535'],
    [{ icmpid: '5', proto: 'tcp' }, '--icmpid applies to icmp, not to --proto tcp'],
    [{ port: '80', proto: 'icmp' }, '--port applies to tcp and udp, not to --proto icmp'],
    [{ port: '80', icmpid: '1' }, '--icmpid and --port cannot be used together: one is icmp, the other tcp/udp'],
    [{ pid: '0' }, 'invalid --pid "0": expected a process id, 1-4194304'],
    [{ pid: '-5' }, 'invalid --pid "-5": expected a process id, 1-4194304'],
    [{ pid: '4194305' }, 'invalid --pid "4194305": expected a process id, 1-4194304'],
    [{ pid: '99999999999999999999' }, 'invalid --pid "99999999999999999999": expected a process id, 1-4194304'],
    [{ netns: '' }, 'invalid --netns "": expected an inode, a name under /run/netns or a path'],
    [{ ifname: 'abcdefghijklmnopqrst' }, 'invalid --ifname "abcdefghijklmnopqrst": expected an interface name of 1-15 bytes without "/", ":" or blanks'],
    [{ ifname: 'eth0:1' }, 'invalid --ifname "eth0:1": expected an interface name of 1-15 bytes without "/", ":" or blanks'],
    [{ ifname: '' }, 'invalid --ifname "": expected an interface name of 1-15 bytes without "/", ":" or blanks'],
    [{ mark: 'x' }, 'invalid --mark "x": expected VALUE[/MASK], 32-bit numbers in decimal or 0x-hex'],
    [{ mark: '0x100000000' }, 'invalid --mark "0x100000000": expected VALUE[/MASK], 32-bit numbers in decimal or 0x-hex'],
    [{ mark: '1/' }, 'invalid --mark "1/": expected VALUE[/MASK], 32-bit numbers in decimal or 0x-hex'],
    [{ mark: '1/2/3' }, 'invalid --mark "1/2/3": expected VALUE[/MASK], 32-bit numbers in decimal or 0x-hex'],
    [{ mark: '1/0' }, 'invalid --mark "1/0": a mask of 0 matches every packet'],
    [{ mark: '0x10/0x0f' }, 'invalid --mark "0x10/0x0f": the value has bits outside the mask, nothing could match'],
    [{ catchCount: '0' }, 'invalid --catch-count "0": expected a positive integer'],
    [{ catchCount: 'many' }, 'invalid --catch-count "many": expected a positive integer'],
    [{ time: true, timestamp: true }, '-T/--time and -t/--timestamp cannot be used together'],
    [{ snaplen: '128' }, '--snaplen applies to -w FILE (the packets written as pcapng)'],
    [{ write: 'x.pcapng', snaplen: '32' }, 'invalid --snaplen "32": expected 64-4096 bytes'],
    [{ write: 'x.pcapng', snaplen: '4097' }, 'invalid --snaplen "4097": expected 64-4096 bytes'],
    [{ write: '' }, 'invalid -w "": expected a file name, or - for standard output'],
    [{ print: true }, '--print applies to -w FILE (without -w the events are printed anyway)'],
    [{ write: '-', print: true }, '--print cannot print the events to standard output: -w - writes the pcapng there'],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => parseTraceOptions(raw), (e: unknown) => {
      assert.ok(e instanceof UsageError, JSON.stringify(raw));
      assert.equal(e.message, message);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.equal(e.exitCode, 2);
      return true;
    }, JSON.stringify(raw));
  }
});

test('-w and --snaplen reach the kernel config only together: without -w no byte is copied', () => {
  assert.equal(configValues(parseTraceOptions({})).snaplen, 0);
  const w = parseTraceOptions({ write: 'out.pcapng' });
  assert.deepEqual([w.write, w.snaplen, configValues(w).snaplen], ['out.pcapng', 256, 256]);
  assert.equal(configValues(parseTraceOptions({ write: '-', snaplen: '1500' })).snaplen, 1500);
});

test('validIfname', () => {
  const cases: [string, boolean][] = [
    ['eth0', true], ['lo', true], ['a', true], ['br-1234567890ab', true], ['.', false], ['..', false], ['...', true],
    ['a/b', false], ['a b', false], ['a\tb', false], ['a\u0000', false], ['ab:c', false], ['ééééééééé', false], ['éééééé', true],
  ];
  for (const [name, ok] of cases) assert.equal(validIfname(name), ok, JSON.stringify(name));
});

test('configValues', () => {
  const zero16 = new Uint8Array(16);
  const base = {
    addr: zero16, addr_family: 0, l4proto: 0, want_stack: 0, port: 0, icmp_id: 0, has_icmp_id: 0, has_mark: 0,
    mark: 0, mark_mask: 0, pid: 0, netns: 0, has_ifname: 0, ifname: zero16, keep: 0, snaplen: 0,
  };
  const ifname = (s: string) => {
    const b = new Uint8Array(16);
    b.set(Buffer.from(s));
    return b;
  };
  const addr = (...bytes: number[]) => {
    const b = new Uint8Array(16);
    b.set(bytes);
    return b;
  };
  const cases: [string, RawTraceOptions, number, object][] = [
    ['defaults', {}, 0, base],
    ['mytracer tcp example', { proto: 'tcp', ipaddr: '1.2.3.4', port: '22' }, 0,
      { ...base, addr: addr(1, 2, 3, 4), addr_family: 4, l4proto: 6, port: 22 }],
    ['icmp id', { proto: 'icmp', ipaddr: 'fd00::2', icmpid: '22' }, 0,
      { ...base, addr: addr(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), addr_family: 6, l4proto: 1, icmp_id: 22, has_icmp_id: 1 }],
    ['udp', { proto: 'udp' }, 0, { ...base, l4proto: 17 }],
    ['mapped address goes in as ipv4', { ipaddr: '::ffff:10.1.2.3' }, 0, { ...base, addr: addr(10, 1, 2, 3), addr_family: 4 }],
    ['pid netns ifname mark', { pid: '42', netns: 'blue', ifname: 'veth0', mark: '0x1/0x1' }, 4026532281,
      { ...base, pid: 42, netns: 4026532281, has_ifname: 1, ifname: ifname('veth0'), has_mark: 1, mark: 1, mark_mask: 1 }],
    ['mark without mask', { mark: '7' }, 0, { ...base, has_mark: 1, mark: 7, mark_mask: 0xffffffff }],
    ['dropstack', { dropstack: true }, 0, { ...base, want_stack: 2 }],
    ['callstack wins', { dropstack: true, callstack: true }, 0, { ...base, want_stack: 1 }],
  ];
  for (const [name, raw, ns, want] of cases) {
    assert.deepEqual(configValues(parseTraceOptions(raw), ns), want, name);
  }
  assert.throws(() => configValues(parseTraceOptions({}), -1), RangeError);
});

test('error classes carry exit codes and causes', async () => {
  const { EnvironmentError, KernelError, PktpathError, exitCodeOf } = await import('../shared/errors.js');
  const cause = new Error('EPERM');
  const cases: [Error, string, number][] = [
    [new UsageError('bad', { cause }), 'UsageError', 2],
    [new EnvironmentError('no BTF', { cause }), 'EnvironmentError', 3],
    [new KernelError('attach failed', { cause }), 'KernelError', 4],
  ];
  for (const [e, name, code] of cases) {
    assert.ok(e instanceof PktpathError && e instanceof Error);
    assert.equal(e.name, name);
    assert.equal((e as InstanceType<typeof PktpathError>).exitCode, code);
    assert.equal(e.cause, cause);
    assert.equal(exitCodeOf(e), code);
  }
  assert.equal(new UsageError('x').cause, undefined);
  assert.equal(exitCodeOf(new Error('x')), 1);
  assert.equal(exitCodeOf('string'), 1);
});
