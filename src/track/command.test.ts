import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { exitText, GO_LINE, invokingUser, parsePasswd, resolveProgram, SHIM_ABANDONED, shimArgv, userEnv } from './command.js';
import { UsageError } from '../shared/errors.js';

test('invokingUser: the sudo caller when pktpath runs as root under sudo, else as is', () => {
  const cases: [string, Record<string, string | undefined>, number, ReturnType<typeof invokingUser>][] = [
    ['sudo from uid 1000', { SUDO_UID: '1000', SUDO_GID: '1001' }, 0, { uid: 1000, gid: 1001 }],
    ['no SUDO_GID: the uid as gid', { SUDO_UID: '1000' }, 0, { uid: 1000, gid: 1000 }],
    ['root without sudo', {}, 0, null],
    ['sudo from root', { SUDO_UID: '0', SUDO_GID: '0' }, 0, null],
    ['not root: nothing to switch', { SUDO_UID: '1000', SUDO_GID: '1000' }, 1000, null],
    ['garbage', { SUDO_UID: 'x', SUDO_GID: '1000' }, 0, null],
    ['negative', { SUDO_UID: '-1' }, 0, null],
  ];
  for (const [what, env, uid, want] of cases) assert.deepEqual(invokingUser(env, uid), want, what);
});

test('shimArgv: the command after the shim, through setpriv when switching user', () => {
  const [sh, c, script, name, ...rest] = shimArgv(['curl', '-m', '5', 'http://x/'], null, '/usr/bin/setpriv');
  assert.deepEqual([sh, c, name, rest], ['/bin/sh', '-c', 'pktpath-cmd', ['curl', '-m', '5', 'http://x/']]);
  assert.match(script!, /read -r go <&3/);
  assert.deepEqual(shimArgv(['id'], { uid: 1000, gid: 1001 }, '/usr/bin/setpriv').slice(4), [
    '/usr/bin/setpriv', '--reuid=1000', '--regid=1001', '--init-groups', '--', 'id',
  ]);
  // without setpriv the caller switches the ids itself
  assert.deepEqual(shimArgv(['id'], { uid: 1000, gid: 1001 }, null).slice(4), ['id']);
});

test('the shim: runs the command in its own place after the go line, exits 125 without it', () => {
  const script = shimArgv([], null, null)[2]!;
  // stdin becomes the shim's fd 3, as the pipe pktpath writes the go line to
  const run = (input: string, argv: string[]): { status: number | null; out: string } => {
    const r = spawnSync('/bin/sh', ['-c', 'exec 3<&0 </dev/null; exec /bin/sh -c "$0" pktpath-cmd "$@"', script, ...argv], { input, encoding: 'utf8' });
    return { status: r.status, out: r.stdout };
  };
  assert.deepEqual(run(GO_LINE, ['echo', 'a b', 'c']), { status: 0, out: 'a b c\n' });
  assert.deepEqual(run(GO_LINE, ['sh', '-c', 'exit 7']), { status: 7, out: '' });
  assert.equal(run('', ['echo', 'never']).status, SHIM_ABANDONED);
  assert.equal(run('no\n', ['echo', 'never']).status, SHIM_ABANDONED);
  // the go pipe is not inherited by the command
  assert.deepEqual(run(GO_LINE, ['sh', '-c', '[ -e /proc/self/fd/3 ] && echo open || echo closed']), { status: 0, out: 'closed\n' });
});

test('parsePasswd and userEnv: HOME, USER and LOGNAME of the user the command runs as', () => {
  const who = parsePasswd('alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n');
  assert.deepEqual(who, { name: 'alice', uid: 1000, home: '/home/alice' });
  for (const bad of ['', 'alice:x:1000', 'alice:x:abc:1000::/home/alice:/bin/sh']) assert.equal(parsePasswd(bad), null, bad);
  assert.deepEqual(userEnv({ PATH: '/bin', HOME: '/root', USER: 'root' }, who), { PATH: '/bin', HOME: '/home/alice', USER: 'alice', LOGNAME: 'alice' });
  assert.deepEqual(userEnv({ PATH: '/bin', HOME: '/root' }, null), { PATH: '/bin', HOME: '/root' });
});

test('resolveProgram: a path as given, a name through PATH, one clear line otherwise', () => {
  const exe = new Set(['/usr/bin/curl', './run.sh', '/opt/x/tool']);
  const isExe = (f: string): boolean => exe.has(f);
  assert.equal(resolveProgram(['curl', '-v'], '/usr/local/bin:/usr/bin', isExe), '/usr/bin/curl');
  assert.equal(resolveProgram(['./run.sh'], '/usr/bin', isExe), './run.sh');
  assert.equal(resolveProgram(['tool'], '/nope::/opt/x', isExe), '/opt/x/tool');
  const cases: [string[], string][] = [
    [['nosuch'], 'command not found: nosuch'],
    [['/usr/bin/nosuch'], 'cannot run /usr/bin/nosuch: not an executable file'],
    [[], 'no command after --: expected -- CMD [ARGS]'],
    [[''], 'no command after --: expected -- CMD [ARGS]'],
  ];
  for (const [argv, msg] of cases) {
    assert.throws(() => resolveProgram(argv, '/usr/bin', isExe), (e: unknown) => e instanceof UsageError && e.message === msg, msg);
  }
});

test('exitText', () => {
  assert.equal(exitText({ code: 0, signal: null }), 'exited with status 0');
  assert.equal(exitText({ code: 7, signal: null }), 'exited with status 7');
  assert.equal(exitText({ code: null, signal: 'SIGTERM' }), 'was killed by SIGTERM');
  assert.equal(exitText({ code: null, signal: null }), 'did not start');
});
