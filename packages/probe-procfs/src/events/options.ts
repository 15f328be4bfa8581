/**
 * The events group's options: their JSON Schema properties (merged into the probe's CONFIG_SCHEMA,
 * the single source of defaults) and their type (part of ProcfsConfig).
 */
import type { JsonSchema } from '@virtualeyes/core';

/** The events group's options, after defaults. */
export interface EventsOptions {
  /** Listen to the kernel's process-events connector (process_events, exact births and exits). */
  readonly processEvents: boolean;
  /** Receive buffer of the connector socket, bytes (SO_RCVBUFFORCE as root, else SO_RCVBUF up to net.core.rmem_max). */
  readonly processEventsBufferBytes: number;
  /** Events held per reader between two collections; more are dropped and counted. */
  readonly processEventsMaxBuffered: number;
  /** 0: a blocking receive on a libuv worker thread; N > 0: drain a non-blocking socket every N ms instead. */
  readonly processEventsPollMs: number;
}

/** Defaults of {@link EventsOptions}. */
export const EVENTS_DEFAULTS: EventsOptions = {
  processEvents: false,
  processEventsBufferBytes: 4 * 1024 * 1024,
  processEventsMaxBuffered: 20_000,
  processEventsPollMs: 0,
};

/** JSON Schema properties of {@link EventsOptions}. */
export const EVENTS_OPTIONS: Readonly<Record<string, JsonSchema>> = {
  processEvents: {
    type: 'boolean',
    default: EVENTS_DEFAULTS.processEvents,
    description:
      "Listen to the kernel's process-events connector for process_events (every fork, exec and exit, with exit codes and exact times), and give the processes table exact lifetimes: a process's version begins at its fork and ends at its exit, and one that lived between two scans is recorded too. Needs root or CAP_NET_ADMIN (Linux 6.6 let any user listen; later kernels may refuse it again), and the host's namespaces. Off by default for now: the daemon spends about 0.2 ms of CPU per event on it, some 70 ms a second on a host forking 64 times a second.",
  },
  processEventsBufferBytes: {
    type: 'integer',
    minimum: 65536,
    maximum: 1073741824,
    default: EVENTS_DEFAULTS.processEventsBufferBytes,
    description:
      'Receive buffer of the process-events socket in bytes (the kernel doubles it; without CAP_NET_ADMIN it is capped at net.core.rmem_max). A burst past it loses events, which are counted and reported.',
  },
  processEventsMaxBuffered: {
    type: 'integer',
    minimum: 1,
    maximum: 10000000,
    default: EVENTS_DEFAULTS.processEventsMaxBuffered,
    description: 'Process events held between two collections of process_events; more are dropped, counted and reported.',
  },
  processEventsPollMs: {
    type: 'integer',
    minimum: 0,
    maximum: 60000,
    default: EVENTS_DEFAULTS.processEventsPollMs,
    description:
      "0 reads process events with a receive blocked on one of libuv's worker threads (UV_THREADPOOL_SIZE); N > 0 drains a non-blocking socket every N ms instead, holding no thread but reading arguments up to N ms late.",
  },
};
