/**
 * The one-line meaning of a drop reason: the diagnosis's own words (src/diagnose/rules/
 * drops.ts REASONS), never a copy of them.
 */
import { REASONS } from '../diagnose/rules/index.js';

const UNKNOWN = "no explanation in pktpath yet: the reason is the kernel's own name";

export function reasonMeaning(reason: string): string {
  return REASONS[reason]?.meaning ?? UNKNOWN;
}
