/**
 * The decoder's byte layout against the kernel headers: a C program built with gcc prints the
 * sizes and offsets from <linux/netlink.h>, <linux/connector.h> and <linux/cn_proc.h>
 * (linux-libc-dev), and they must equal decode.ts's Layout. Skipped, with the reason, without gcc or the headers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CN_IDX_PROC, CN_VAL_PROC, Layout, McastOp, What } from '../../src/events/decode.js';

const HEADER = '/usr/include/linux/cn_proc.h';
const HAS_GCC = spawnSync('gcc', ['--version']).status === 0;
const PROGRAM = `
#include <stdio.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>
int main(void) {
  printf("{\\"nlmsghdr\\":%zu,\\"cn_msg\\":%zu,\\"proc_event\\":%zu,\\"event_data\\":%zu,\\"timestamp\\":%zu,",
    sizeof(struct nlmsghdr), sizeof(struct cn_msg), sizeof(struct proc_event), offsetof(struct proc_event, event_data), offsetof(struct proc_event, timestamp_ns));
  printf("\\"exit_code\\":%zu,\\"exit_parent\\":%zu,\\"comm\\":%zu,\\"idx\\":%d,\\"val\\":%d,\\"listen\\":%d,\\"exit\\":%u,\\"coredump\\":%u,\\"comm_what\\":%u}",
    offsetof(struct proc_event, event_data.exit.exit_code) - offsetof(struct proc_event, event_data),
    offsetof(struct proc_event, event_data.exit.parent_pid) - offsetof(struct proc_event, event_data),
    offsetof(struct proc_event, event_data.comm.comm) - offsetof(struct proc_event, event_data),
    CN_IDX_PROC, CN_VAL_PROC, PROC_CN_MCAST_LISTEN, (unsigned)PROC_EVENT_EXIT, (unsigned)PROC_EVENT_COREDUMP, (unsigned)PROC_EVENT_COMM);
  return 0;
}
`;

describe.skipIf(!HAS_GCC || !existsSync(HEADER))(`layout against the kernel headers (${HAS_GCC ? 'gcc' : 'skipped: no gcc'}, ${existsSync(HEADER) ? HEADER : 'skipped: install linux-libc-dev'})`, () => {
  it('has the sizes, offsets and constants of <linux/cn_proc.h>', () => {
    const dir = mkdtempSync(join(tmpdir(), 've-cn-layout-'));
    try {
      writeFileSync(join(dir, 'layout.c'), PROGRAM);
      execFileSync('gcc', ['-o', join(dir, 'layout'), join(dir, 'layout.c')]);
      const got = JSON.parse(execFileSync(join(dir, 'layout'), { encoding: 'utf8' })) as Record<string, number>;
      expect(got).toEqual({
        nlmsghdr: Layout.NLMSG_HDRLEN,
        cn_msg: Layout.CN_MSG_HDRLEN,
        proc_event: Layout.PROC_EVENT_SIZE,
        event_data: Layout.EVENT_DATA,
        timestamp: 8,
        exit_code: 8,
        exit_parent: 16,
        comm: 8,
        idx: CN_IDX_PROC,
        val: CN_VAL_PROC,
        listen: McastOp.LISTEN,
        exit: What.EXIT,
        coredump: What.COREDUMP,
        comm_what: What.COMM,
      });
      expect(Layout.PROC_EVENT).toBe(Layout.NLMSG_HDRLEN + Layout.CN_MSG_HDRLEN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
