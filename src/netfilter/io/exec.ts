/**
 * Running the tools netfilter tracing needs (nft, iptables-legacy-save, ip netns exec)
 * in a named network namespace. Children are started in a session of their own
 * (`detached`): a Ctrl-C at the terminal goes to the foreground process group, and must
 * reach pktpath alone, which then stops its children in order (a monitor killed by the
 * terminal loses the trace lines the kernel had queued for it). A child leaves the group
 * only once it runs (setsid between fork and exec): one that the Ctrl-C caught in that
 * window dies of it, and a short command is then run again (see interrupted()).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { NETNS_RUN_DIR } from '../../kernel/io/netns.js';

/** `argv` as run in a namespace (null: ours): `ip netns exec NS argv...`. */
export function nsArgv(netns: string | null, argv: readonly string[]): [string, string[]] {
  return netns === null ? [argv[0]!, argv.slice(1)] : ['ip', ['netns', 'exec', netns, ...argv]];
}

export function haveCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir && existsSync(join(dir, name))) return true;
  }
  return false;
}

/** Throws UsageError unless `netns` is null (ours) or a plain name under /run/netns. */
export function requireNamedNetns(netns: string | null): void {
  if (netns === null) return;
  if (!/^[A-Za-z0-9_.-]+$/.test(netns) || netns === '.' || netns === '..' || !existsSync(join(NETNS_RUN_DIR, netns))) {
    throw new UsageError(`unknown network namespace "${netns}": not a name under ${NETNS_RUN_DIR}`);
  }
}

/** A child that died of the terminal's SIGINT (or a SIGTERM to the group) while it was being started: worth one more try. */
export function interrupted(signal: NodeJS.Signals | null): boolean {
  return signal === 'SIGINT' || signal === 'SIGTERM';
}
