/**
 * deploy/pktpath-drops.yaml stays in step with the CLI: its arguments are options
 * `pktpath drops` takes, the port it serves is the one the pod and the scrape annotation
 * name, and it has what the exporter needs (the node's network and PID namespaces, the
 * capabilities the README lists). No cluster here: this reads the manifest's text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/shared/io/paths.js';
import { parseDropsOptions } from '../../src/drops/options.js';

const manifest = readFileSync(join(ROOT, 'deploy/pktpath-drops.yaml'), 'utf8');

test('the DaemonSet runs pktpath drops with options it takes, on the port it declares', () => {
  const args = JSON.parse(/^\s+args: (\[.*\])$/m.exec(manifest)?.[1] ?? '[]') as string[];
  assert.equal(args[0], 'drops');
  const raw: Record<string, string> = {};
  for (let i = 1; i < args.length; i += 2) raw[args[i]!.replace(/^--/, '')] = args[i + 1]!;
  const opts = parseDropsOptions(raw);
  const port = String(opts.listen?.port);
  assert.match(manifest, new RegExp(`containerPort: ${port}\\n\\s+hostPort: ${port}`));
  assert.match(manifest, new RegExp(`prometheus.io/port: "${port}"`));
});

test('the DaemonSet has the node\'s network and PID namespaces and the capabilities the exporter needs', () => {
  assert.match(manifest, /^kind: DaemonSet$/m);
  assert.match(manifest, /^\s+hostNetwork: true$/m);
  assert.match(manifest, /^\s+hostPID: true$/m);
  const caps = JSON.parse(/^\s+add: (\[.*\])$/m.exec(manifest)?.[1] ?? '[]') as string[];
  for (const c of ['BPF', 'PERFMON', 'SYS_ADMIN', 'SYSLOG']) assert.ok(caps.includes(c), `capability ${c}`);
});
