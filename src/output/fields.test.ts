import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeField } from '../engine/catalog.js';
import { infoValue, probeInfo } from './fields.js';
import { addr, catalogFields, ev } from '../../test/helpers/formatting.js';

test('probeInfo', () => {
  assert.deepEqual(probeInfo(catalogFields('fib_table_lookup'), ev({ aux: -1, aux2: 255 })), { table: 255, err: -1 });
  assert.deepEqual(probeInfo(catalogFields('ip_rcv'), ev()), {});
});

test('probeInfo with gateway', () => {
  assert.deepEqual(probeInfo(catalogFields('fib_table_lookup'), ev({ aux: 0, aux2: 254, auxAddr: null })), { table: 254, err: 0 });
  assert.deepEqual(probeInfo(catalogFields('fib_table_lookup'), ev({ aux: 0, aux2: 254, auxAddr: { family: 4, bytes: addr('10.0.0.1') } })),
    { table: 254, err: 0, gw: '10.0.0.1' });
});

test('infoValue: each conversion of aux, aux2 and aux3', () => {
  const cases: [ProbeField, Partial<Parameters<typeof ev>[0]>, number | string | undefined][] = [
    [{ key: 'k', src: 'aux', conv: 'int' }, { aux: -16 }, -16],
    [{ key: 'k', src: 'aux', conv: 'u32' }, { aux: -1 }, 4294967295],
    [{ key: 'k', src: 'aux2', conv: 'u32' }, { aux2: 254 }, 254],
    [{ key: 'k', src: 'aux', conv: 'hex' }, { aux: 0x80010000 | 0 }, '0x80010000'],
    [{ key: 'k', src: 'aux2', conv: 'hex' }, { aux2: 0 }, '0x0'],
    [{ key: 'k', src: 'aux', conv: 'hi8' }, { aux: (3 << 8) | 4 }, 3],
    [{ key: 'k', src: 'aux', conv: 'lo8' }, { aux: (3 << 8) | 4 }, 4],
    [{ key: 'k', src: 'auxAddr', conv: 'addr' }, { auxAddr: { family: 6, bytes: addr('fe80::1') } }, 'fe80::1'],
    [{ key: 'k', src: 'auxAddr', conv: 'addr' }, {}, undefined],
    [{ key: 'k', src: 'aux3', conv: 'u32' }, { aux3: 110 }, 110],
    [{ key: 'k', src: 'aux3', conv: 'u32' }, {}, 0],
    [{ key: 'k', src: 'aux', conv: 'tcp_state' }, { aux: 2 }, 'SYN_SENT'],
    [{ key: 'k', src: 'aux2', conv: 'tcp_state' }, { aux2: 7 }, 'CLOSE'],
    [{ key: 'k', src: 'aux2', conv: 'tcp_state' }, { aux2: 12 }, 'NEW_SYN_RECV'],
    [{ key: 'k', src: 'aux', conv: 'tcp_state' }, { aux: 0 }, '0'],
    [{ key: 'k', src: 'aux', conv: 'tcp_state' }, { aux: 99 }, '99'],
    [{ key: 'k', src: 'aux', conv: 'xdp_act' }, { aux: 0 }, 'ABORTED'],
    [{ key: 'k', src: 'aux', conv: 'xdp_act' }, { aux: 4 }, 'REDIRECT'],
    [{ key: 'k', src: 'aux', conv: 'xdp_act' }, { aux: 9 }, '9'],
  ];
  for (const [f, over, want] of cases) assert.equal(infoValue(f, ev(over)), want, `${f.src} ${f.conv}`);
});
