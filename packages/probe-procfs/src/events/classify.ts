/**
 * The one place the events group decides what a failed connector call means. Refusals name what
 * would allow listening (root or CAP_NET_ADMIN, except on kernels since 6.6 that let any user listen; the initial namespaces always);
 * a kernel without the connector is UNSUPPORTED; running out of descriptors or memory is
 * UNAVAILABLE. Every message is one line: the probe reports it once and keeps its other tables.
 */
import { fail, StatusCode, type Status } from '@virtualeyes/core';
import { FFI_ERRNO } from '@virtualeyes/linux/native';

/** The connector operations that can fail. */
export type ConnectorOp = 'socket' | 'bind' | 'listen' | 'receive' | 'load';

/** Where the failure came from, for the Status's `op`. */
const OPS: Readonly<Record<ConnectorOp, string>> = {
  socket: 'socket(AF_NETLINK, NETLINK_CONNECTOR)',
  bind: 'bind(CN_IDX_PROC)',
  listen: 'send(PROC_CN_MCAST_LISTEN)',
  receive: 'recv(process events)',
  load: 'load libc',
};

/** errno → code for the connector's calls. */
const CODES: Readonly<Record<string, StatusCode>> = {
  EPERM: StatusCode.PERMISSION_DENIED,
  EACCES: StatusCode.PERMISSION_DENIED,
  EPROTONOSUPPORT: StatusCode.UNSUPPORTED,
  EAFNOSUPPORT: StatusCode.UNSUPPORTED,
  ESOCKTNOSUPPORT: StatusCode.UNSUPPORTED,
  ENOENT: StatusCode.UNSUPPORTED,
  ECONNREFUSED: StatusCode.UNSUPPORTED,
  EMFILE: StatusCode.UNAVAILABLE,
  ENFILE: StatusCode.UNAVAILABLE,
  ENOMEM: StatusCode.UNAVAILABLE,
  ENOBUFS: StatusCode.UNAVAILABLE,
  EAGAIN: StatusCode.UNAVAILABLE,
  EINTR: StatusCode.UNAVAILABLE,
};

/** What allows listening, for PERMISSION_DENIED messages. */
export const PRIVILEGE_ADVICE = 'listening needs root or CAP_NET_ADMIN (some kernels since 6.6 let any user listen), and the initial user and PID namespaces (not a container\'s)';

/** Classifies a failed connector call by its errno name. */
export function classifyConnectorError(errno: string, op: ConnectorOp): Status {
  const code = CODES[errno] ?? StatusCode.INTERNAL;
  const options = { op: OPS[op] };
  const what = `process events: ${OPS[op]} failed (${errno})`;
  switch (code) {
    case StatusCode.PERMISSION_DENIED:
      return fail(code, `${what}: ${PRIVILEGE_ADVICE}; process_events stays empty, the other tables are unaffected`, { ...options, retryable: false });
    case StatusCode.UNSUPPORTED:
      return fail(code, `${what}: this kernel has no process-events connector (CONFIG_CONNECTOR and CONFIG_PROC_EVENTS)`, { ...options, retryable: false });
    case StatusCode.UNAVAILABLE:
      return fail(code, `${what}: out of descriptors or kernel memory, or interrupted; the probe's next start tries again`, options);
    default:
      return fail(StatusCode.INTERNAL, `${what}${errno === FFI_ERRNO ? ': koffi refused the call' : ''}; please report this`, { ...options, retryable: false });
  }
}

/** The kernel answered LISTEN with an error (an ack carrying an errno value). */
export function listenRefused(errnoName: string): Status {
  return classifyConnectorError(errnoName, 'listen');
}

/** The kernel never answered LISTEN: it ignores requests from other namespaces, and a kernel without CONFIG_PROC_EVENTS has no one to answer. */
export function listenUnanswered(waitedMs: number): Status {
  return fail(
    StatusCode.PERMISSION_DENIED,
    `process events: no answer to PROC_CN_MCAST_LISTEN within ${waitedMs} ms: the kernel ignores it from outside the initial user and PID namespaces (a container), or lacks CONFIG_PROC_EVENTS; process_events stays empty`,
    { op: OPS.listen, retryable: false },
  );
}
