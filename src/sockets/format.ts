/**
 * `pktpath sockets` output: an ss-like table, or one JSON document. Pure.
 *
 * JSON: { "sockets": [Socket...], "listeners": [Answer...], "notes": [string...] }
 *   Socket  {netns, netns_label, proto, family, state, local:{addr,port}, peer:{addr,port},
 *            recv_q, send_q, uid, inode, ifindex, ifname?, v6only?, raw_protocol?,
 *            processes:[{pid,comm,fd}]}
 *   Answer  {proto, addr?, port, namespaces:[label...], answering:[Socket...],
 *            elsewhere:[{why:"address"|"family"|"namespace", socket:Socket}], sentence}
 */
import { formatEndpoint } from './socket.js';
import type { Socket } from './socket.js';
import type { ListenerAnswer } from './listeners.js';

const HEADER = ['NETNS', 'PROTO', 'STATE', 'RECV-Q', 'SEND-Q', 'LOCAL', 'PEER', 'PROCESS'];

function processText(s: Socket): string {
  return s.processes.map((p) => `${p.comm}(pid=${p.pid},fd=${p.fd})`).join(',');
}

function row(s: Socket): string[] {
  const proto = s.proto === 'raw' ? `raw${s.family === 6 ? '6' : ''}` : `${s.proto}${s.family === 6 ? '6' : ''}`;
  return [s.netnsLabel, proto, s.state, String(s.recvQ), String(s.sendQ), formatEndpoint(s.local, s), formatEndpoint(s.peer, s, true), processText(s)];
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** The table (or "no socket matches"), then one line per listener answer and per note. */
export function formatSocketsText(sockets: readonly Socket[], answers: readonly ListenerAnswer[], notes: readonly string[]): string {
  const lines = sockets.length ? alignColumns([HEADER, ...sockets.map(row)]) : ['no socket matches'];
  for (const a of answers) lines.push(`listeners: ${a.sentence}`);
  for (const n of notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** One socket as a JSON object (snake_case, as the trace's JSON). */
export function socketJson(s: Socket): Record<string, unknown> {
  return {
    netns: s.netns,
    netns_label: s.netnsLabel,
    proto: s.proto,
    family: s.family,
    state: s.state,
    local: s.local,
    peer: s.peer,
    recv_q: s.recvQ,
    send_q: s.sendQ,
    uid: s.uid,
    inode: s.inode,
    ifindex: s.ifindex,
    ...(s.ifname !== undefined ? { ifname: s.ifname } : {}),
    ...(s.v6only !== undefined ? { v6only: s.v6only } : {}),
    ...(s.rawProtocol !== undefined ? { raw_protocol: s.rawProtocol } : {}),
    processes: s.processes,
  };
}

function answerJson(a: ListenerAnswer): Record<string, unknown> {
  return {
    proto: a.query.proto,
    ...(a.query.addr !== undefined ? { addr: a.query.addr } : {}),
    port: a.query.port,
    namespaces: [...a.namespaces.values()],
    answering: a.answering.map(socketJson),
    elsewhere: a.elsewhere.map((e) => ({ why: e.why, socket: socketJson(e.socket) })),
    sentence: a.sentence,
  };
}

export function formatSocketsJson(sockets: readonly Socket[], answers: readonly ListenerAnswer[], notes: readonly string[]): string {
  return JSON.stringify({ sockets: sockets.map(socketJson), listeners: answers.map(answerJson), notes });
}
