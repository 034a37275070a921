/**
 * What other subjects use of netfilter's pure part. The OS edge (trace sessions, legacy
 * counters, the --iptable orchestration) is imported from `./io/` by the run's session.
 */
export { OWN_TABLE_RE, NFPROTO } from './model.js';
export type { NfHook, NfJson, NfPathStep, NfTrace, NfVerdictName } from './model.js';
export { formatNfStep, nfJson } from './nft/path.js';
export { nfEvents } from './events.js';
export { nfOfEval, planNfEval, verdictOf } from './eval.js';
export type { NfEvalProgram } from './eval.js';
export { LegacyPathTracker, planObservers } from './legacy/observers.js';
export type { LegacyStep, ObserverSpot } from './legacy/observers.js';
