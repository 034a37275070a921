import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tracefsPaths } from '../funcs.js';
import { REASON_NOT_MOUNTED, traceableFunctions } from './traceable.js';

/** A fake tracing directory: `trace` marks it mounted; `aff` is the file's content, or a directory when null. */
function fakeTracefs(root: string, name: string, opts: { mounted: boolean; aff?: string | null }): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  if (opts.mounted) writeFileSync(join(dir, 'trace'), '');
  const file = join(dir, 'available_filter_functions');
  if (opts.aff === null) mkdirSync(file);
  else if (opts.aff !== undefined) writeFileSync(file, opts.aff);
  return file;
}

test('traceableFunctions: reads the first mounted tracefs', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pktpath-traceable-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const unmounted = fakeTracefs(root, 'tracing', { mounted: false });
  const debug = fakeTracefs(root, 'debug', { mounted: true, aff: 'ip_rcv\nveth_xmit [veth]\nip_rcv\n__pfx_ip_rcv\n' });
  const r = traceableFunctions([unmounted, debug]);
  assert.equal(r.source, debug);
  assert.deepEqual([...r.set!], ['ip_rcv', 'veth_xmit [veth]']);
  assert.deepEqual([...r.duplicates], ['ip_rcv']);
  assert.equal(r.reason, undefined);
});

test('traceableFunctions: nothing mounted means unknown, and nothing is mounted for us', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pktpath-traceable-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const a = fakeTracefs(root, 'a', { mounted: false });
  const b = join(root, 'no/such/dir/available_filter_functions');
  const r = traceableFunctions([a, b]);
  assert.deepEqual(r, { set: null, source: 'none', reason: REASON_NOT_MOUNTED, duplicates: new Set() });
  assert.equal(REASON_NOT_MOUNTED, 'tracefs not mounted: every BTF function is tried');
  assert.ok(!existsSync(join(root, 'a', 'trace')));
});

test('traceableFunctions: mounted but missing, unreadable or empty means unknown, with why', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pktpath-traceable-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const missing = fakeTracefs(root, 'missing', { mounted: true });
  const unreadable = fakeTracefs(root, 'unreadable', { mounted: true, aff: null });
  const empty = fakeTracefs(root, 'empty', { mounted: true, aff: '\n' });
  const r = traceableFunctions([missing, unreadable, empty]);
  assert.equal(r.set, null);
  assert.equal(r.source, 'none');
  assert.equal(
    r.reason,
    `${missing} missing (kernel without dynamic ftrace?); cannot read ${unreadable}: EISDIR; ${empty} lists no functions: every BTF function is tried`,
  );
});

test('traceableFunctions on this machine', (t) => {
  const r = traceableFunctions();
  if (r.set === null) {
    t.diagnostic(`unknown: ${r.reason}`);
    const anyMounted = tracefsPaths().some((p) => existsSync(join(p, '..', 'trace')));
    if (!anyMounted) assert.equal(r.reason, REASON_NOT_MOUNTED);
    return;
  }
  t.diagnostic(`${r.set.size} traceable functions from ${r.source}, ${r.duplicates.size} names listed more than once`);
  assert.ok(r.set.size > 1000);
  assert.ok(r.set.has('ip_rcv') || r.set.has('tcp_v4_rcv'));
});
