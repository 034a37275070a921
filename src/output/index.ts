/** Event output: the text and JSON formatters and what they are built on. */
export { makeTextFormatter } from './text.js';
export { makeJsonFormatter } from './json.js';
export type { FormatOptions, Formatter, TimeMode } from './shared.js';
export type { Resolver } from './resolver.js';
export { probeInfo } from './fields.js';
export { jsonString } from './strings.js';
export { ShortView, MILESTONES } from './view.js';
