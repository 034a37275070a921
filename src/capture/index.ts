/** Capture files in and out: pcap/pcapng readers, `pktpath analyze`, and the pcapng writer. */
export { Analyzer } from './analyze.js';
export type { AnalyzeOptions } from './analyze.js';
export { detect } from './reader.js';
export { CaptureError } from './records.js';
export type { CaptureDescription, CaptureInterface, CaptureSink, InterfaceStats, RawPacket } from './records.js';
export { renderReport } from './render.js';
export type { AnalysisReport, Finding, FlowSummary } from './report.js';
export { CAPTURE_RULES } from './rules.js';
export type { CaptureRule } from './rules.js';
