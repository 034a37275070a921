import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvironmentError, KernelError } from '../../shared/errors.js';
import { hostError, NetnsGoneError } from './request.js';

const ns = { path: '/run/netns/pp-x', inode: 4026532999, name: 'pp-x' };
const addonError = (message: string, errno: number): Error => Object.assign(new Error(message), { errno });

test('hostError: a namespace deleted while it is read is "gone", whether its file is missing or only unmounted', () => {
  for (const [message, errno] of [
    ['netlink socket in netns: No such file or directory', 2],
    ['netlink socket in netns: Invalid argument', 22],
    ['enter netns /run/netns/pp-x: Invalid argument', 22],
  ] as const) {
    assert.ok(hostError(ns, 'tcp socket dump', addonError(message, errno)) instanceof NetnsGoneError, message);
  }
});

test('hostError: EPERM is the environment (exit 3); another errno is the kernel (exit 4)', () => {
  const perm = hostError(ns, 'link dump', addonError('netlink socket in netns: Operation not permitted', 1));
  assert.ok(perm instanceof EnvironmentError && !(perm instanceof NetnsGoneError));
  const other = hostError(ns, 'link dump', addonError('netlink request: Invalid argument', 22));
  assert.ok(other instanceof KernelError, 'EINVAL outside entering a namespace is the kernel refusing the request');
});
