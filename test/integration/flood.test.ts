/**
 * A trace under a flood whose stdout nobody reads: an iperf3 transfer over veth, every
 * packet matching `pktpath trace --json -H <server> -P 5201`, stdout a pipe that is never
 * read. Memory must stay bounded and what could not be written must be counted as
 * dropped for back-pressure; SIGINT must still end the run cleanly with its summary.
 * (No timing assertions: the machine is shared.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireRoot } from '../helpers/netns.js';
import { flood } from '../helpers/flood.js';

/** The bound the issue sets for any duration of any load. */
const MAX_RSS_MB = 200;
const SECONDS = 8;

test('flood with a stalled stdout pipe: bounded RSS, back-pressure loss counted, a clean exit on SIGINT', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t, { commands: ['iperf3', 'ss'] })) return;
  const r = await flood('stalled', SECONDS);
  const where = `\n${JSON.stringify({ ...r, stderr: undefined })}\nstderr:\n${r.stderr}`;
  t.diagnostic(`peak RSS ${r.peakRssMb} MiB (bound ${MAX_RSS_MB}), ${r.backpressure} dropped for back-pressure, exit ${r.exitMs} ms`);
  assert.equal(r.code, 0, `pktpath should exit 0 after SIGINT${where}`);
  assert.match(r.stderr, /pktpath: \d+ events, \d+ lost, \d+ dropped for back-pressure \(output too slow\)/, `the summary should count the back-pressure loss${where}`);
  assert.ok(r.backpressure > 10_000, `a flood into a pipe nobody reads loses events to back-pressure${where}`);
  assert.ok(r.peakRssMb > 0 && r.peakRssMb < MAX_RSS_MB, `peak RSS ${r.peakRssMb} MiB, bound ${MAX_RSS_MB}${where}`);
});
