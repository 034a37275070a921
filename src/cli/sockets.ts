/**
 * `pktpath sockets`: the inet sockets of every namespace (or -N) with state, addresses,
 * queues and owning processes, like `ss -tunap`; with --listening and -P, also which
 * listeners would answer that port (and -H address), and who listens elsewhere.
 */
import type { Command } from 'commander';
import { canEnterNamespaces, listNamespaces, namespacesToRead } from '../netlink/io/namespaces.js';
import { readSockets } from '../sockets/io/read.js';
import { whoAnswersAll } from '../sockets/io/answer.js';
import { compareSockets, matchesFilter } from '../sockets/filter.js';
import { formatSocketsJson, formatSocketsText } from '../sockets/format.js';
import type { ListenerAnswer } from '../sockets/listeners.js';
import { parseSocketsOptions } from '../sockets/options.js';
import type { RawSocketsOptions, SocketsOptions } from '../sockets/options.js';
import type { Socket } from '../sockets/socket.js';

/** Who answers -P (and -H) for each of TCP/UDP asked for; every namespace's listeners are looked at. */
function listenerAnswers(opts: SocketsOptions, read: readonly Socket[], netns: number | undefined): ListenerAnswer[] {
  const protos = opts.protos.filter((p): p is 'tcp' | 'udp' => p !== 'raw');
  const queries = protos.map((proto) => ({ proto, port: opts.port!, ...(opts.addr !== undefined ? { addr: opts.addr } : {}), ...(netns !== undefined ? { netns } : {}) }));
  // without -N the sockets already read are every namespace's
  return whoAnswersAll(queries, netns === undefined ? read : undefined);
}

function socketsAction(raw: RawSocketsOptions): number {
  const opts = parseSocketsOptions(raw);
  const namespaces = namespacesToRead(opts.netns, { processes: true });
  const read = readSockets(namespaces, opts.protos, { strict: opts.netns !== undefined });
  const notes = [...read.notes];
  if (opts.netns === undefined && !canEnterNamespaces() && listNamespaces().length > 1) {
    notes.push('not root: other namespaces and other users\' processes are left out');
  }
  const shown = read.sockets.filter((s) => matchesFilter(s, opts)).sort(compareSockets);
  const answers = opts.listening && opts.port !== undefined ? listenerAnswers(opts, read.sockets, opts.netns !== undefined ? namespaces[0]!.inode : undefined) : [];
  const out = opts.json ? formatSocketsJson(shown, answers, notes) : formatSocketsText(shown, answers, notes);
  process.stdout.write(`${out}\n`);
  return 0;
}

/** Registers `pktpath sockets`; the action's exit code goes to result.code. */
export function addSocketsCommand(program: Command, result: { code: number }): void {
  program
    .command('sockets')
    .description('inet sockets of every namespace with state, queues and processes (like ss -tunap), and who would answer a port')
    .option('-N, --netns <netns>', 'only this namespace: name under /run/netns, path, or inode')
    .option('-H, --ipaddr <addr>', 'IPv4 or IPv6 address, either end')
    .option('-P, --port <port>', 'port, either end')
    .option('--proto <proto>', 'tcp|udp|raw|any', 'any')
    .option('--listening', 'only listening (TCP) and unconnected (UDP, raw) sockets; with -P, say who would answer')
    .option('--json', 'one JSON document')
    .action((raw: RawSocketsOptions) => {
      result.code = socketsAction(raw);
    });
}
