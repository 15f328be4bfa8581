/**
 * The process-events connector socket: opened, bound to the CN_IDX_PROC group, given a large
 * receive buffer and told to LISTEN, then read without blocking the event loop. By default one
 * recv at a time blocks on a libuv worker thread (koffi's async call) and, when it returns, the
 * main thread drains whatever else is queued with MSG_DONTWAIT before arming the next one: no
 * CPU while idle, one thread hand-off per burst. With `pollMs` the socket is drained on a
 * timer instead and no thread is held. Overruns (ENOBUFS) and the per-CPU sequence gaps they
 * leave are counted, never thrown; a gap pump() sees while a recv is in flight counts only once
 * that recv has returned, as the datagram it holds may be the missing one (handed back after
 * later ones, not lost). Close wakes the blocked recv so nothing keeps Node alive.
 */
import { OK, type Status } from '@virtualeyes/core';
import { classifyConnectorError, listenRefused, listenUnanswered } from './classify.js';
import { CN_IDX_PROC, decodeDatagram, encodeMcastOp, Layout, McastOp, NlmsgType, type KernelMessage } from './decode.js';
import type { SysResult } from '@virtualeyes/linux/native';
import type { ConnectorSyscalls } from './native.js';

/** A blocked recv returns after this long even when nothing comes, bounding close when no wake-up reaches it. */
export const RECV_TIMEOUT_MS = 250;
/** How long to wait for the kernel's answer to LISTEN. */
export const ACK_TIMEOUT_MS = 1000;
/** Datagrams drained in one turn of the event loop before yielding. */
const DRAIN_LIMIT = 512;
/** Pause after an unexpected recv failure, so a persistent one cannot spin. */
const RETRY_MS = 1000;
/** One datagram is one event (76 bytes); room for any future growth. */
const RECEIVE_BYTES = 4096;
/** How often the socket is drained while waiting for the ack in polling mode. */
const ACK_POLL_MS = 5;
/** Bitmask of multicast groups for bind(): CN_IDX_PROC. */
const GROUPS = 1 << (CN_IDX_PROC - 1);
/** The cpu of an ack on kernels before 6.6, which did not number acks. */
const NO_CPU = 0xffffffff;

/** How the socket is read. */
export interface ConnectorConfig {
  /** Receive buffer asked for, bytes (the kernel doubles it for its bookkeeping). */
  readonly bufferBytes: number;
  /** 0: block in recv on a worker thread; > 0: drain a non-blocking socket every `pollMs`. */
  readonly pollMs: number;
}

/** What the socket saw since it opened. */
export interface ConnectorStats {
  /** Datagrams received (one event each). */
  readonly datagrams: number;
  /** recv() calls that failed with ENOBUFS: the receive buffer overran. */
  readonly overruns: number;
  /** Events the kernel numbered but this socket never got (per-CPU sequence gaps). */
  readonly lost: number;
  /** Datagrams that did not decode. */
  readonly malformed: number;
  /** Receive buffer the kernel granted, bytes (0 before open). */
  readonly bufferBytes: number;
  /** Whether SO_RCVBUFFORCE was allowed (else SO_RCVBUF, capped at net.core.rmem_max). */
  readonly forced: boolean;
}

/** One listening socket. */
export interface Connector {
  /** Opens and listens; the Status says why not (PERMISSION_DENIED without privilege). */
  open(): Promise<Status>;
  /** Stops listening and closes the socket once no recv is blocked on it; idempotent. */
  close(): Promise<Status>;
  /** Drains the socket now, so a reader gets everything up to this instant (blocking: all but a datagram the recv in flight may hold). */
  pump(): void;
  /** Counters since open. */
  stats(): ConnectorStats;
}

type Outcome = 'ok' | 'empty' | 'backoff';

/**
 * Creates a connector over `sys`; each decoded process event goes to `onEvent` (on the main
 * thread, as soon as it is received), and unexpected receive failures to `onProblem`.
 */
export function createConnector(
  sys: ConnectorSyscalls,
  config: ConnectorConfig,
  onEvent: (message: KernelMessage) => void,
  onProblem: (status: Status) => void,
): Connector {
  let state: 'idle' | 'open' | 'closing' | 'closed' = 'idle';
  let fd = -1;
  let portId = 0;
  let listenSeq = 0;
  let listenAck = 0;
  const buffer = Buffer.alloc(RECEIVE_BYTES);
  // pump()'s own: the blocking recv in flight owns `buffer`.
  const pumpBuffer = Buffer.alloc(RECEIVE_BYTES);
  let inflight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAck: ((err: number | undefined) => void) | undefined;
  const lastSeq = new Map<number, number>();
  const counts = { datagrams: 0, overruns: 0, lost: 0, malformed: 0, bufferBytes: 0, forced: false };
  // Gaps pump() found while a recv was in flight: that recv may hold the datagram of one of them,
  // handed back after the later ones, so they count as lost only once it has returned.
  let pendingGaps = 0;

  const handle = (received: Buffer, length: number): void => {
    counts.datagrams += 1;
    const decoded = decodeDatagram(received, length);
    if (!decoded.ok) {
      counts.malformed += 1;
      return;
    }
    for (const message of decoded.value) {
      switch (message.kind) {
        case 'other':
          continue;
        case 'ack':
          // Acks go to every listener; ours answers our ack number plus one. Since Linux 6.6 the
          // kernel numbers them like events (per CPU), before that it echoed our seq (cpu -1).
          if (message.ack === ((listenAck + 1) >>> 0)) onAck?.(message.err);
          if (message.cpu !== NO_CPU) track(message.cpu, message.seq);
          continue;
        default:
          track(message.cpu, message.seq);
          if (message.kind !== 'unknown') onEvent(message);
      }
    }
  };

  const track = (cpu: number, seq: number): void => {
    const last = lastSeq.get(cpu);
    if (last === undefined) {
      lastSeq.set(cpu, seq);
      return;
    }
    const gap = (seq - last - 1) >>> 0;
    if (gap >= 0x80000000) {
      // Older than one already read: the datagram the recv in flight held while pump() read on.
      if (pendingGaps > 0) pendingGaps -= 1;
      return;
    }
    if (inflight !== undefined) pendingGaps += gap;
    else counts.lost += gap;
    lastSeq.set(cpu, seq);
  };

  /** The recv in flight has returned and its datagram is handled: what is still missing is lost. */
  const settleGaps = (): void => {
    counts.lost += pendingGaps;
    pendingGaps = 0;
  };

  const settle = (result: SysResult, received: Buffer): Outcome => {
    if (result.ok) {
      handle(received, result.value);
      return 'ok';
    }
    switch (result.errno) {
      case 'EAGAIN':
      case 'EINTR':
        return 'empty';
      case 'ENOBUFS':
        // The kernel dropped what did not fit; the sequence gaps say how much.
        counts.overruns += 1;
        return 'ok';
      default:
        if (state === 'open') onProblem(classifyConnectorError(result.errno, 'receive'));
        return 'backoff';
    }
  };

  const drain = (into: Buffer = buffer): Outcome => {
    for (let i = 0; i < DRAIN_LIMIT; i += 1) {
      const outcome = settle(sys.receiveNow(fd, into), into);
      if (outcome !== 'ok') return outcome;
    }
    return 'ok';
  };

  const arm = (): void => {
    timer = undefined;
    if (state !== 'open') return;
    inflight = new Promise<void>((resolve) => {
      sys.receiveAsync(fd, buffer, (result) => {
        inflight = undefined;
        resolve();
        if (state !== 'open') return;
        let outcome = settle(result, buffer);
        settleGaps();
        // Whatever else queued while this one was handed back: no thread hand-off per event.
        if (outcome === 'ok') outcome = drain();
        if (outcome === 'backoff') timer = setTimeout(arm, RETRY_MS);
        else arm();
      });
    });
  };

  const startReading = (): void => {
    if (config.pollMs === 0) {
      arm();
      return;
    }
    timer = setInterval(() => {
      if (state === 'open') drain();
    }, config.pollMs);
    timer.unref();
  };

  const waitForAck = (): Promise<number | undefined> =>
    new Promise((resolve) => {
      const poll =
        config.pollMs === 0
          ? undefined
          : setInterval(() => {
              if (state === 'open') drain();
            }, ACK_POLL_MS);
      const done = (err: number | undefined): void => {
        clearTimeout(deadline);
        if (poll !== undefined) clearInterval(poll);
        onAck = undefined;
        resolve(err);
      };
      const deadline = setTimeout(() => done(undefined), ACK_TIMEOUT_MS);
      onAck = done;
    });

  let closing: Promise<Status> | undefined;
  const shut = (): Promise<Status> => {
    if (state === 'idle') state = 'closed';
    if (state === 'closed') return Promise.resolve(OK);
    closing ??= release();
    return closing;
  };

  const release = async (): Promise<Status> => {
    state = 'closing';
    if (timer !== undefined) {
      clearTimeout(timer);
      clearInterval(timer);
      timer = undefined;
    }
    if (inflight !== undefined) {
      // Wake the blocked recv: a message to our own port (allowed with CAP_NET_ADMIN), else a
      // second LISTEN, whose ack reaches us and which changes nothing since Linux 6.6 (the only
      // kernels that let a listener without CAP_NET_ADMIN get here). RECV_TIMEOUT_MS bounds the rest.
      const wake = Buffer.alloc(Layout.NLMSG_HDRLEN);
      wake.writeUInt32LE(Layout.NLMSG_HDRLEN, 0);
      wake.writeUInt16LE(NlmsgType.NOOP, 4);
      if (!sys.sendToSelf(fd, portId, wake).ok) sys.send(fd, encodeMcastOp(McastOp.LISTEN, portId, listenSeq + 1, listenAck + 1));
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([inflight, new Promise<void>((resolve) => (bound = setTimeout(resolve, RECV_TIMEOUT_MS * 2)))]);
      clearTimeout(bound);
    }
    // Before Linux 6.6 closing the socket left the kernel counting a listener: IGNORE first.
    sys.send(fd, encodeMcastOp(McastOp.IGNORE, portId, listenSeq + 2, listenAck + 2));
    const closed = sys.close(fd);
    fd = -1;
    state = 'closed';
    return closed.ok ? OK : classifyConnectorError(closed.errno, 'receive');
  };

  const fail = async (status: Status): Promise<Status> => {
    await shut();
    return status;
  };

  return {
    async open() {
      if (state !== 'idle') return OK;
      const socket = sys.socket();
      if (!socket.ok) {
        state = 'closed';
        return classifyConnectorError(socket.errno, 'socket');
      }
      fd = socket.value;
      state = 'open';
      const bound = sys.bind(fd, GROUPS);
      if (!bound.ok) return fail(classifyConnectorError(bound.errno, 'bind'));
      // SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped by it.
      counts.forced = sys.setReceiveBuffer(fd, config.bufferBytes, true).ok;
      if (!counts.forced) sys.setReceiveBuffer(fd, config.bufferBytes, false);
      const granted = sys.receiveBuffer(fd);
      counts.bufferBytes = granted.ok ? granted.value : 0;
      if (config.pollMs === 0) sys.setReceiveTimeout(fd, RECV_TIMEOUT_MS);
      const port = sys.portId(fd);
      if (!port.ok) return fail(classifyConnectorError(port.errno, 'bind'));
      portId = port.value;
      listenSeq = portId;
      listenAck = portId;
      const ack = waitForAck();
      const sent = sys.send(fd, encodeMcastOp(McastOp.LISTEN, portId, listenSeq, listenAck));
      if (!sent.ok) {
        onAck?.(undefined);
        await ack;
        return fail(classifyConnectorError(sent.errno, 'listen'));
      }
      startReading();
      const answer = await ack;
      if (state !== 'open') return OK;
      if (answer === undefined) return fail(listenUnanswered(ACK_TIMEOUT_MS));
      if (answer !== 0) return fail(listenRefused(sys.errnoName(answer)));
      return OK;
    },
    close: shut,
    pump() {
      // Blocking: what queued behind the recv in flight is read now, into a buffer of its own.
      if (state === 'open') drain(config.pollMs > 0 ? buffer : pumpBuffer);
    },
    stats: () => ({ ...counts }),
  };
}
