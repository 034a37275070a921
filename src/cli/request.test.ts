import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceOptions } from './options.js';
import type { RawTraceOptions } from './options.js';
import { ringBytesOf, runRequest } from './request.js';
import type { RunRequest } from './request.js';
import { UsageError } from '../shared/errors.js';

test('runRequest: one mapping from the options to the run', () => {
  const cases: [string, RawTraceOptions, Parameters<typeof runRequest>[1], Partial<RunRequest>][] = [
    ['defaults: every function backend, 8 MiB', {}, {}, {
      output: { events: true, json: false, time: 'default', stack: false }, catchCount: null, verbose: false, ringBytes: 8 << 20, route: false, iptable: false,
      functions: { all: false, backends: ['kprobe.multi', 'fentry', 'kprobe'] },
    }],
    ['tracepoints only', { backend: 'tracepoints' }, {}, { functions: null }],
    ['one backend and a choice', { backend: 'kprobe', func: '^ip_', exclude: 'x$', all: true }, {}, {
      functions: { all: true, include: /^ip_/, exclude: /x$/, backends: ['kprobe'] },
    }],
    ['output', { json: true, timestamp: true, dropstack: true }, {}, { output: { events: true, json: true, time: 'relative', stack: true } }],
    ['callstack', { callstack: true }, {}, { output: { events: true, json: false, time: 'default', stack: true } }],
    ['the rest', { catchCount: '5', verbose: true, route: true, iptable: true }, { ringMb: '64' }, { catchCount: 5, verbose: true, route: true, iptable: true, ringBytes: 64 << 20 }],
    ['neither evidence probes nor tracking by default', {}, {}, { evidence: false, track: false }],
    ['--evidence', { evidence: true }, {}, { evidence: true, track: false }],
    ['a diagnose run: tracking and evidence', {}, { track: true, evidence: true }, { evidence: true, track: true }],
    ['-w: the events are not printed, as tcpdump -w', { write: 'x.pcapng' }, {}, { output: { events: false, json: false, time: 'default', stack: false } }],
    ['-w --print: they are', { write: 'x.pcapng', print: true }, {}, { output: { events: true, json: false, time: 'default', stack: false } }],
    ['a diagnose run prints its report, not the events', {}, { events: false }, { output: { events: false, json: false, time: 'default', stack: false } }],
  ];
  for (const [what, raw, where, want] of cases) {
    const req = runRequest(parseTraceOptions(raw), where);
    const picked = Object.fromEntries(Object.keys(want).map((k) => [k, req[k as keyof RunRequest]]));
    assert.deepEqual(picked, want, what);
  }
});

test('runRequest: the config carries the filters and the namespace inode', () => {
  const opts = parseTraceOptions({ ipaddr: '10.1.2.3', port: '80', netns: 'blue' });
  const req = runRequest(opts, { netnsInode: 4026532281 });
  assert.equal(req.options, opts);
  assert.deepEqual([req.config.addr_family, req.config.port, req.config.netns], [4, 80, 4026532281]);
});

test('runRequest: the compiled expression rides along, none by default', () => {
  const opts = parseTraceOptions({});
  assert.equal(runRequest(opts).filter, null);
  const filter = { expression: 'tcp', bodies: {}, needL2: 14, needL3: 1 };
  assert.equal(runRequest(opts, { filter }).filter, filter);
});

test('ringBytesOf: powers of two from 1 to 1024 MiB', () => {
  assert.equal(ringBytesOf(undefined), 8 << 20);
  assert.equal(ringBytesOf('1'), 1 << 20);
  assert.equal(ringBytesOf('1024'), 1024 << 20);
  for (const bad of ['0', '3', '2048', 'x', '', '1.5', '-4']) {
    assert.throws(() => ringBytesOf(bad), (e: unknown) => e instanceof UsageError && e.message === `invalid --ring-mb "${bad}": expected a power of two from 1 to 1024`, bad);
  }
});
