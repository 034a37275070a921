/**
 * The report of a real trace, opened in a real browser: a router REJECTs a SYN in
 * FORWARD; `pktpath trace --html --perfetto` records it in every namespace; headless
 * Chromium (Debian's, driven by playwright-core) opens the page with JavaScript on and
 * every request but the file itself refused. The DOM must show the lanes, the red drop
 * box with its reason, timed arrows; a click on the drop box shows its raw event, equal
 * to the run's own --json line; the timeline zooms. A screenshot goes to the test's
 * output folder (test-output/report-browser, or $PKTPATH_TEST_OUT); docs/report.png is
 * one of them. The Perfetto file of the same run validates and its slices are the events.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, requireRoot, skipUnlessMet, spawnTrace, whileTracing } from '../helpers/netns.js';
import { buildScene, connectPy } from '../helpers/scenes.js';
import { checkTrace } from '../helpers/trace-event-check.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = process.env.PKTPATH_TEST_OUT ?? join(REPO_ROOT, 'test-output', 'report-browser');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Made {
  html: string;
  perfetto: string;
  events: Record<string, unknown>[];
  stderr: string;
}

/** The FORWARD REJECT scene, traced with --html and --perfetto. */
async function makeReport(dir: string): Promise<Made> {
  const s = buildScene('rpbrow', true);
  const port = 33000 + (process.pid % 1000) * 3;
  const html = join(dir, 'report.html');
  const perfetto = join(dir, 'trace.json');
  try {
    await s.sh('rtr', `iptables -A FORWARD -p tcp --dport ${port} -j REJECT --reject-with icmp-admin-prohibited`);
    const res = await whileTracing(await spawnTrace(['-H', s.v4.srv, '-P', String(port), '--proto', 'tcp', '--html', html, '--perfetto', perfetto]), async () => {
      const r = await s.py('cli', connectPy(s.v4.srv, port, 2), 6000);
      assert.match(r.stdout, /EHOSTUNREACH/, 'the client saw the REJECT');
      await sleep(700);
    });
    return { html, perfetto, events: res.events as never, stderr: res.stderr };
  } finally {
    s.destroy();
  }
}

async function openPage(t: TestContext, file: string): Promise<{ page: import('playwright-core').Page; close: () => Promise<void>; blocked: string[]; errors: string[] }> {
  const { chromium } = await import('playwright-core');
  const userDir = join(OUT, 'chromium-profile');
  const ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, args: FLAGS, headless: true, viewport: { width: 1500, height: 1100 } });
  const blocked: string[] = [];
  const errors: string[] = [];
  const url = pathToFileURL(file).href;
  // the network is off: every request that is not the report itself is refused (and counted)
  await ctx.route('**/*', (route) => (route.request().url() === url ? route.continue() : (blocked.push(route.request().url()), route.abort())));
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  t.diagnostic(`opened ${url}`);
  return { page, close: () => ctx.close(), blocked, errors };
}

test('the HTML report of a real FORWARD REJECT opens offline in Chromium and shows the path, the drop and the timings', { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t, { commands: ['iptables'] })) return;
  if (!skipUnlessMet(t, existsSync(CHROMIUM) ? null : `needs ${CHROMIUM} (Debian's chromium; scripts/setup.sh installs it)`)) return;
  mkdirSync(OUT, { recursive: true });
  const made = await makeReport(OUT);
  assert.match(made.stderr, /report written to .*report\.html/);
  const { page, close, blocked, errors } = await openPage(t, made.html);
  try {
    const lanes = await page.locator('.lane-title').allTextContents();
    assert.equal(lanes.length, 2, `lanes: ${lanes.join(', ')}`);
    assert.ok(lanes[0]!.endsWith('-cli') && lanes[1]!.endsWith('-rtr'), `lanes: ${lanes.join(', ')}`);
    const drop = page.locator('.box.t-drop', { hasText: 'NETFILTER_DROP' }).first();
    assert.equal(await drop.locator('rect').evaluate((r) => getComputedStyle(r).stroke), 'rgb(198, 40, 40)', 'the drop box is red');
    assert.match((await drop.textContent()) ?? '', /at nft_do_chain/);
    const labels = await page.locator('.edge .el').allTextContents();
    assert.ok(labels.filter((l) => /^\d+(\.\d+)? (ns|us|ms|s)$/.test(l)).length >= 4, `edge labels: ${labels.join(', ')}`);
    assert.ok((await page.locator('.edge.e-cause').count()) >= 1, 'a dashed arrow from ICMP sent to the error packet');
    assert.match((await page.locator('.verdict-text').textContent()) ?? '', /rejected by netfilter/);
    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    t.diagnostic(`screenshot: ${join(OUT, 'report.png')}`);
    // a click on the drop box shows its raw event: the run's own --json line
    await drop.click();
    assert.equal(await page.locator('#raw').isVisible(), true);
    const n = Number((await drop.getAttribute('data-ev'))!.split(',')[0]);
    const shown = JSON.parse((await page.locator('#raw-body').textContent())!.split('\n\n')[0]!);
    assert.deepEqual(shown, made.events[n - 1], `raw event #${n} is the --json line`);
    const before = await page.locator('#tl-plot').getAttribute('transform');
    await page.click('#tl-in');
    assert.notEqual(await page.locator('#tl-plot').getAttribute('transform'), before, 'the timeline zooms');
    await page.click('#tl-reset');
    await page.screenshot({ path: join(OUT, 'report-raw.png'), fullPage: true });
    assert.deepEqual(blocked, [], 'the page asked for nothing but itself');
    assert.deepEqual(errors, [], 'no script error');
    // positive control: a request from another page of the same browser is refused and counted
    const other = await page.context().newPage();
    await other.evaluate(() => fetch('http://192.0.2.1/x').catch(() => null));
    assert.deepEqual(blocked, ['http://192.0.2.1/x'], 'the route refuses the network');
  } finally {
    await close();
  }
  const trace = JSON.parse(readFileSync(made.perfetto, 'utf8')) as { traceEvents: { ph: string; name: string }[] };
  assert.deepEqual(checkTrace(trace), []);
  assert.ok(trace.traceEvents.some((e) => e.ph === 'i' && e.name === 'DROP NETFILTER_DROP'));
});
