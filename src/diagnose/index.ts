/** The diagnosis engine: rules as data over a trace's events (README "Diagnosis"). */
export { Diagnoser } from './engine.js';
export type { DiagnoseOptions } from './engine.js';
export { explainDrops, whyLines, whyText } from './explain.js';
export { renderReport } from './render.js';
export { ReplayResolver, parseJsonLines, rawOfJson } from './replay.js';
export type { JsonEvent } from './replay.js';
export { RULES, REASONS } from './rules/index.js';
export type * from './model.js';
