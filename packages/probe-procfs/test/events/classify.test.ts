/**
 * The events group's error table: what each errno of a connector call becomes, with the
 * advice its message must carry, and the two ways the kernel can turn LISTEN down.
 */
import { describe, expect, it } from 'vitest';
import { classifyConnectorError, listenRefused, listenUnanswered } from '../../src/events/classify.js';

describe('classifyConnectorError', () => {
  it.each([
    ['EPERM', 'bind', 'PERMISSION_DENIED'],
    ['EACCES', 'socket', 'PERMISSION_DENIED'],
    ['EPROTONOSUPPORT', 'socket', 'UNSUPPORTED'],
    ['EAFNOSUPPORT', 'socket', 'UNSUPPORTED'],
    ['ECONNREFUSED', 'listen', 'UNSUPPORTED'],
    ['EMFILE', 'socket', 'UNAVAILABLE'],
    ['ENFILE', 'socket', 'UNAVAILABLE'],
    ['ENOMEM', 'receive', 'UNAVAILABLE'],
    ['ENOBUFS', 'receive', 'UNAVAILABLE'],
    ['EINTR', 'receive', 'UNAVAILABLE'],
    ['EBADF', 'receive', 'INTERNAL'],
    ['EFFI', 'receive', 'INTERNAL'],
  ] as const)('%s from %s is %s', (errno, op, code) => {
    const status = classifyConnectorError(errno, op);
    expect(status.code).toBe(code);
    expect(status.message).toContain(`(${errno})`);
    expect(status.message).not.toContain('\n');
  });

  it('says what allows listening when refused, and that the other tables go on', () => {
    const status = classifyConnectorError('EPERM', 'bind');
    expect(status.message).toContain('root or CAP_NET_ADMIN (some kernels since 6.6 let any user listen)');
    expect(status.message).toContain('the other tables are unaffected');
    expect(status.retryable).toBe(false);
  });

  it('is retryable only for UNAVAILABLE', () => {
    expect(classifyConnectorError('EMFILE', 'socket').retryable).toBe(true);
    expect(classifyConnectorError('EPROTONOSUPPORT', 'socket').retryable).toBe(false);
  });
});

describe('LISTEN turned down', () => {
  it('by an ack carrying EPERM: PERMISSION_DENIED', () => {
    expect(listenRefused('EPERM')).toMatchObject({ code: 'PERMISSION_DENIED', op: 'send(PROC_CN_MCAST_LISTEN)' });
  });

  it("by silence (a container's namespaces): PERMISSION_DENIED naming them", () => {
    const status = listenUnanswered(1000);
    expect(status.code).toBe('PERMISSION_DENIED');
    expect(status.message).toContain('initial user and PID namespaces');
  });
});
