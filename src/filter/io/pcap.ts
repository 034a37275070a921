/**
 * libpcap through the addon: the compiler src/filter/filter.ts takes as PcapCompile.
 */
import { UsageError } from '../../shared/errors.js';
import { native } from '../../engine/io/native.js';
import type { NativeError } from '../../engine/io/native.js';
import type { LinkType } from '../filter.js';

/** tcpdump's default snaplen: what `ret` gives for a match (pktpath only looks at non-zero). */
const SNAPLEN = 262144;

/**
 * Compiles `expression` as tcpdump -r would for `linktype`.
 * @throws UsageError with libpcap's own message when libpcap rejects the expression.
 */
export function pcapCompile(expression: string, linktype: LinkType): Uint8Array {
  try {
    return native().pcapCompile(expression, linktype, SNAPLEN);
  } catch (err) {
    if ((err as NativeError).code === 'EPCAP') throw new UsageError((err as Error).message, { cause: err });
    throw err;
  }
}
