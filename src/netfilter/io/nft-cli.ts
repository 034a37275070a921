/** `nft` commands a trace session runs: add and delete its table, list chains and rules. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../../shared/errors.js';
import { chainKey, hookMapOf } from '../model.js';
import type { NftChainInfo } from '../model.js';
import { parseNftChainsJson, parseNftRuleList } from '../nft/listing.js';
import { NETNS_RUN_DIR } from '../../kernel/io/netns.js';
import { interrupted, nsArgv } from './exec.js';

export const NFT_TIMEOUT_MS = 10_000;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `nft args...` in a namespace (null: ours), feeding `input` on stdin. Never rejects for a non-zero exit. */
export async function runNft(netns: string | null, args: readonly string[], input?: string): Promise<RunResult> {
  const r = await runNftOnce(netns, args, input);
  return interrupted(r.signal) ? runNftOnce(netns, args, input) : r;
}

function runNftOnce(netns: string | null, args: readonly string[], input?: string): Promise<RunResult> {
  const [file, argv] = nsArgv(netns, ['nft', ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), NFT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`cannot run nft: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** nft's stdout; throws with its first error lines on a non-zero exit. */
export async function nftOk(netns: string | null, args: readonly string[], input?: string): Promise<string> {
  const r = await runNft(netns, args, input);
  if (r.code !== 0) {
    const where = netns === null ? '' : ` (netns ${netns})`;
    throw new Error(`nft ${args.join(' ')}${where}: ${firstError(r.stderr) || `exit ${r.code}`}`);
  }
  return r.stdout;
}

/** nft's error lines without its warnings about iptables-nft tables. */
export function firstError(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('# Warning'))
    .join(' | ')
    .trim();
}

/**
 * Has the kernel load nf_tables (an nft request autoloads it), so that fexit on
 * nft_do_chain can be planned when a run starts: --iptable puts its own tracing tables in
 * anyway, but only after the probes are loaded. Quiet; false when nft cannot run here.
 */
export function preloadNfTables(): boolean {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore', timeout: NFT_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** Delete a table of ours, synchronously (the exit path). True when it is gone. */
export function deleteTableSync(netns: string | null, table: string): boolean {
  const [file, argv] = nsArgv(netns, ['nft', 'delete', 'table', 'inet', table]);
  try {
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: NFT_TIMEOUT_MS });
    return true;
  } catch (err) {
    return /No such file or directory/.test(String((err as { stderr?: Buffer }).stderr ?? ''));
  }
}

/**
 * Delete a table of ours; a table already gone is fine, and so is a namespace that is
 * no longer under /run/netns (deleted by its owner: the table goes with it once our
 * monitor, the last process in it, has ended). One retry when nft was killed (a
 * namespace's owner may kill every process in it before deleting it).
 */
export async function deleteTable(netns: string | null, table: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = await runNft(netns, ['delete', 'table', 'inet', table]);
    if (r.code === 0 || /No such file or directory/.test(r.stderr)) return;
    if (netns !== null && !existsSync(join(NETNS_RUN_DIR, netns))) return;
    if (r.code === null && attempt === 0) continue;
    throw new Error(`nft delete table inet ${table}${netns === null ? '' : ` (netns ${netns})`}: ${firstError(r.stderr) || (r.code === null ? 'killed' : `exit ${r.code}`)}`);
  }
}

/** family/table/chain -> hook and priority for the namespace's chains (`nft -j list chains`). */
export async function nftRulesetHooks(netns: string | null): Promise<Map<string, NftChainInfo>> {
  return hookMapOf(parseNftChainsJson(await nftOk(netns, ['-j', 'list', 'chains'])));
}

/** The key of a rule in nftRuleTexts(). */
export function ruleKey(family: string, table: string, chain: string, handle: number | undefined): string {
  return `${chainKey(family, table, chain)}\u0000${handle}`;
}

/** family/table/chain/handle (ruleKey) -> rule text, from `nft -a list ruleset`. */
export async function nftRuleTexts(netns: string | null): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const r of parseNftRuleList(await nftOk(netns, ['-a', 'list', 'ruleset']))) m.set(ruleKey(r.family, r.table, r.chain, r.handle), r.text);
  return m;
}
