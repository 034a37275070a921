/**
 * The positional pcap-filter(7) expression, as tcpdump takes it: one quoted argument or
 * several words joined by spaces (`pktpath trace tcp port 80`). One piece for every
 * command that traces packets (trace now; diagnose and drops take the same).
 *
 *   program.command('trace').addArgument(expressionArgument()).action(async (words, raw) => {
 *     const filter = compileExpressionArg(words); // UsageError (exit 2) before anything loads
 *   })
 */
import { Argument } from 'commander';
import { compileExpression } from '../filter/io/image.js';
import type { CompiledFilter } from '../filter/filter.js';
import { UsageError } from '../shared/errors.js';

export const expressionArgument = (): Argument =>
  new Argument('[expression...]', "pcap-filter(7) expression, as tcpdump takes it (e.g. 'tcp port 80 and host 10.0.0.2'), ANDed with the options");

/** The expression the words make, or null when there are none. */
export function expressionOf(words: readonly string[] | undefined): string | null {
  const e = (words ?? []).join(' ').trim();
  return e === '' ? null : e;
}

/**
 * Compiles the words for the probes.
 * @throws UsageError: libpcap's message for what it rejects, or why a probe cannot run it.
 */
export function compileExpressionArg(words: readonly string[] | undefined): CompiledFilter | undefined {
  const e = expressionOf(words);
  return e === null ? undefined : compileExpression(e);
}

/**
 * Features whose events carry no packet for the expression to run on: refused rather than
 * shown unfiltered or silently empty.
 * @throws UsageError naming the feature and the flags that do filter it.
 */
export function refuseWithExpression(filter: CompiledFilter | undefined, opts: { readonly route?: boolean; readonly iptable?: boolean }): void {
  if (!filter) return;
  if (opts.route) {
    throw new UsageError('--route with an expression: route lookups carry no packet to run it on; filter them with -H, -P and --proto');
  }
  if (opts.iptable) {
    throw new UsageError('--iptable with an expression: the netfilter path comes from nft trace, which cannot run it; filter it with -H, -P and --proto');
  }
}
