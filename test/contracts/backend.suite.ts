/**
 * The contract every attach backend (src/engine/io/attach/) keeps, run for real: load the
 * backend's programs from the compiled object, attach them to a real target, see an event
 * for real traffic (UDP over loopback, filtered on a port of this test's own), detach, and
 * find nothing left: no link of ours in bpftool's list, no event for the same traffic.
 *
 * A backend this kernel cannot run skips with the reason (`t.skip`), unless it is named in
 * PKTPATH_CONTRACT_REQUIRE (the guest tier does that: there, a skip is a failure).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { RawEvent } from '../../src/engine/event.js';
import { mechanismMissing } from '../../src/engine/backends.js';
import type { AttachBackend, Attachment } from '../../src/engine/io/attach/index.js';
import { detach } from '../../src/engine/io/attach/index.js';
import { native } from '../../src/engine/io/native.js';
import type { ObjHandle } from '../../src/engine/io/native.js';
import { configureObject, loadObject, openObject, selectPrograms } from '../../src/engine/io/object.js';
import { BPF_OBJECT } from '../../src/shared/io/paths.js';
import { kernelLinkIds, ownLinkIds } from '../helpers/bpf.js';
import { RingEvents, testPort, udpToLoopback } from '../helpers/loopback.js';

export interface BackendCase<T> {
  readonly backend: AttachBackend<T>;
  /** the case's name (the backend's when absent), as PKTPATH_CONTRACT_ONLY / _REQUIRE name it */
  readonly name?: string;
  /** why the backend cannot run here, known before trying; null when it may */
  readonly unavailable: () => string | null;
  /** targets that loopback UDP passes through */
  readonly targets: () => T[];
  /** the events the backend's programs write for that traffic */
  readonly isOurs: (ev: RawEvent) => boolean;
  /** why a load or attach error means the mechanism is refused here (null: a real failure) */
  readonly refusal: (err: unknown) => string | null;
}

const REQUIRED = new Set((process.env.PKTPATH_CONTRACT_REQUIRE ?? '').split(',').filter(Boolean));
const ONLY = new Set((process.env.PKTPATH_CONTRACT_ONLY ?? '').split(',').filter(Boolean));

function gate(t: TestContext, name: string): boolean {
  const why =
    process.geteuid?.() !== 0 ? 'needs root to load BPF' : !existsSync('/sys/kernel/btf/vmlinux') ? 'kernel has no BTF' : !existsSync(BPF_OBJECT) ? 'BPF object not built' : null;
  return why === null || skip(t, name, why);
}

/** Skips with the reason; a required backend fails instead. Always false. */
function skip(t: TestContext, name: string, why: string): false {
  assert.ok(!REQUIRED.has(name), `backend ${name} is required here (PKTPATH_CONTRACT_REQUIRE) but cannot run: ${why}`);
  t.skip(why);
  return false;
}

const mechanismOf = (err: unknown): unknown => (err as { cause?: unknown }).cause ?? err;

/** Registers the contract test of one backend. */
export function backendContract<T>(c: BackendCase<T>): void {
  const name = c.name ?? c.backend.name;
  if (ONLY.size && !ONLY.has(name)) return;
  test(`backend ${name}: attaches to a real target, sees real traffic, detaches, leaves nothing`, { timeout: 120_000 }, async (t) => {
    if (!gate(t, name)) return;
    const unavailable = c.unavailable();
    if (unavailable) return void skip(t, name, unavailable);
    const port = testPort();
    const h = openObject();
    try {
      const loaded = load(c, h, port);
      if (loaded !== null) return void skip(t, name, loaded);
      await attachSeeDetach(t, c, h, port);
    } finally {
      native().close(h);
    }
  });
}

/** Phases select, configure and load with only this backend's programs; a refusal's reason, or null. */
function load<T>(c: BackendCase<T>, h: ObjHandle, port: number): string | null {
  try {
    selectPrograms(h, new Set(c.backend.prepare(h, c.targets())));
    configureObject(h, { port, l4proto: 17 }, 1 << 16);
    loadObject(h);
    return null;
  } catch (err) {
    const why = mechanismMissing(mechanismOf(err)) ? c.refusal(mechanismOf(err)) : null;
    if (why === null) throw err;
    return `${why} (${(err as Error).message.slice(0, 160)})`;
  }
}

async function attachSeeDetach<T>(t: TestContext, c: BackendCase<T>, h: ObjHandle, port: number): Promise<void> {
  const name = c.name ?? c.backend.name;
  const before = new Set(ownLinkIds());
  const a = c.backend.attach(h, c.targets());
  if (!a.usable && a.error !== undefined && c.refusal(a.error) !== null) return void skip(t, name, `${c.refusal(a.error)} (${a.why})`);
  assert.ok(a.usable, `${name}: not usable: ${a.why}`);
  assert.deepEqual(a.status.filter((s) => !s.attached), [], `${name}: every target attaches`);
  const made = ownLinkIds().filter((id) => !before.has(id));
  assert.equal(made.length, a.links.length, `${name}: one BPF link per attachment (made ${made.join(',')})`);
  const listed = kernelLinkIds();
  if (listed) for (const id of made) assert.ok(listed.has(id), `${name}: bpftool lists link ${id}`);

  const ring = new RingEvents(native().ringbuf(native().mapFd(h, 'events')));
  const ours = (ev: RawEvent): boolean => c.isOurs(ev) && ev.tuple?.dport === port;
  await udpToLoopback(port);
  const seen = await ring.until(ours);
  assert.ok(seen.some(ours), `${name}: no event for UDP to 127.0.0.1:${port}; read ${seen.length} events`);

  detach(h, a);
  assertGone(name, made, a);
  await udpToLoopback(port);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(ring.drain().filter(ours).length, 0, `${name}: events after detach`);
}

/** None of the links is held by us or known to the kernel any more. */
function assertGone(name: string, made: readonly number[], a: Attachment): void {
  const mine = new Set(ownLinkIds());
  assert.deepEqual(made.filter((id) => mine.has(id)), [], `${name}: link fds still open after detach (${a.links.length} links)`);
  const listed = kernelLinkIds();
  if (listed) assert.deepEqual(made.filter((id) => listed.has(id)), [], `${name}: bpftool still lists links after detach`);
}
