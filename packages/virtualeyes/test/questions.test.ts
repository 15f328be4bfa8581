// The worked questions of docs/querying.md, run as tests. The doc is parsed (so doc and tests
// cannot drift apart): each question's command, as the doc spells it, goes through the CLI
// (runCli, offline, on a copy of the recorded store in fixtures/questions), its answer is checked
// against what the recording script knew (fixtures/questions/facts.json), and the doc's excerpt
// must be the real output. Re-record with scripts/record-questions-store.mjs.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const DOC = join(ROOT, 'docs/querying.md');
const FIXTURE = fileURLToPath(new URL('./fixtures/questions', import.meta.url));

// ---------------------------------------------------------------------------------------------
// What the recording script knew (facts.json).

/** A process of the recorded workload. */
interface ProcessFact {
  readonly pid: number;
  readonly cmdline: string;
  /** When the script spawned it (ISO). */
  readonly spawned: string;
  /** When it exited (ISO); null when it outlived the recording. */
  readonly exited: string | null;
}

/** What /proc showed around a question's instant. */
interface Snapshot {
  readonly at: string;
  readonly processes: readonly { readonly pid: number; readonly user: string; readonly comm: string; readonly cmdline: string; readonly rss: number }[];
}

interface Facts {
  readonly t0: string;
  readonly sessions: readonly { readonly started: string; readonly stopSignalled: string; readonly stopped: string }[];
  readonly processes: {
    readonly root: { readonly pid: number; readonly cmdline: string };
    readonly memhog: ProcessFact & { readonly allocated: number; readonly allocatedAt: string };
    readonly workers: readonly ProcessFact[];
    readonly spin: ProcessFact & { readonly cpuMs: number };
    readonly short: ProcessFact;
    readonly exec: ProcessFact & { readonly before: string; readonly after: string; readonly execAt: string };
    readonly writer: ProcessFact & { readonly writeBytes: number; readonly writtenAt: string; readonly parentWriteBytes: { readonly beforeReap: number; readonly afterReap: number } };
    readonly burst: ProcessFact & { readonly children: readonly number[] };
    readonly unseen: ProcessFact;
  };
  readonly memory: { readonly availableBeforeHog: number; readonly availableBeforeHogAt: string; readonly availableAfterHog: number; readonly availableAfterHogAt: string };
  readonly snapshots: readonly Snapshot[];
  /** The script's own reads of /proc/loadavg's load1 while a daemon recorded: [ISO, load1]. */
  readonly loadavg: readonly (readonly [string, number])[];
}

const facts = JSON.parse(readFileSync(join(FIXTURE, 'facts.json'), 'utf8')) as Facts;
const ms = (iso: string): number => Date.parse(iso);
const SECOND = 1000;
/** How long after a process started or ended the recording may first show it: one sampling interval and a collection. */
const SEEN_WITHIN = 1.5 * SECOND;

/** Every process of the workload the script started, with its lifetime (epoch ms). */
function workload(): { readonly pid: number; readonly from: number; readonly to: number }[] {
  const p = facts.processes;
  const end = ms(facts.sessions[facts.sessions.length - 1]!.stopped);
  const life = (fact: ProcessFact) => ({ pid: fact.pid, from: ms(fact.spawned), to: fact.exited === null ? end : ms(fact.exited) });
  // The burst's children are forked right after it starts, and it exits right after the last of them.
  const children = p.burst.children.map((pid) => ({ ...life(p.burst), pid }));
  return [...[p.memhog, ...p.workers, p.spin, p.short, p.exec, p.writer, p.burst, p.unseen].map(life), ...children];
}

// ---------------------------------------------------------------------------------------------
// The doc's worked questions.

/** One worked question as the doc has it. */
interface Question {
  /** Its number in the doc. */
  readonly number: number;
  /** The id in its `<!-- question: id -->` marker, naming its check below. */
  readonly id: string;
  readonly title: string;
  /** The command's words, as a shell would split them; the first is `virtualeyes`. */
  readonly argv: readonly string[];
  /** The output excerpt's lines; a line `…` stands for any number of lines. */
  readonly excerpt: readonly string[];
}

/** Splits a command line as a POSIX shell would (quotes, backslashes, continued lines); refuses what only a shell could run (expansions, pipes, redirections). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const add = (chars: string): void => void (word = (word ?? '') + chars);
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[++i];
      if (next !== '\n' && next !== undefined) add(next);
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) throw new Error(`unclosed ' in: ${text}`);
      add(text.slice(i + 1, close));
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      let chars = '';
      for (; j < text.length && text[j] !== '"'; j += 1) {
        if (text[j] === '$' || text[j] === '`') throw new Error(`a shell expansion in: ${text}`);
        if (text[j] === '\\' && '"\\$`\n'.includes(text[j + 1] ?? '')) j += 1;
        chars += text[j]!;
      }
      if (j >= text.length) throw new Error(`unclosed " in: ${text}`);
      add(chars);
      i = j;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ('$`|&;<>()*?#~'.includes(c)) {
      throw new Error(`'${c}' needs a shell, in: ${text}`);
    } else {
      add(c);
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The fenced blocks of a piece of Markdown: info string and body. */
function fences(markdown: string): { readonly info: string; readonly body: string }[] {
  return [...markdown.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((match) => ({ info: match[1]!, body: match[2]! }));
}

/** The worked questions of docs/querying.md: the `## Worked questions` section, one `### N. …` each. */
function parseQuestions(doc: string): Question[] {
  const start = doc.indexOf('\n## Worked questions\n');
  if (start === -1) throw new Error('docs/querying.md has no "## Worked questions" section');
  const next = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, next === -1 ? undefined : next);
  return section
    .split(/^### /m)
    .slice(1)
    .map((part) => {
      const heading = /^(\d+)\. (.+)$/m.exec(part);
      const id = /<!-- question: ([a-z-]+) -->/.exec(part)?.[1];
      const blocks = fences(part);
      const command = blocks.find((block) => block.info === 'sh');
      const excerpt = blocks.find((block) => block.info === '' || block.info === 'text');
      if (heading === null || id === undefined || command === undefined || excerpt === undefined) {
        throw new Error(`a worked question needs "### N. question", <!-- question: id -->, a sh block and an output block: ${part.slice(0, 80)}`);
      }
      const argv = shellWords(command.body);
      return { number: Number(heading[1]), id, title: heading[2]!, argv, excerpt: excerpt.body.replace(/\n$/, '').split('\n') };
    });
}

/** Whether `actual` (lines) is what `excerpt` shows: the same lines, a `…` line standing for any number of them. */
function matchesExcerpt(actual: readonly string[], excerpt: readonly string[]): boolean {
  const trimmed = actual.map((line) => line.trimEnd());
  const want = excerpt.map((line) => line.trimEnd());
  const match = (a: number, e: number): boolean => {
    if (e === want.length) return a === trimmed.length;
    if (want[e] === '…') {
      for (let skip = a; skip <= trimmed.length; skip += 1) if (match(skip, e + 1)) return true;
      return false;
    }
    return a < trimmed.length && trimmed[a] === want[e] && match(a + 1, e + 1);
  };
  return match(0, 0);
}

// ---------------------------------------------------------------------------------------------
// Running a question.

/** What one run of the CLI printed. */
interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** Out and err as a terminal shows them, interleaved in the order written. */
  readonly shown: string;
}

/** "Now" for the CLI: a minute after the recording ended, as if asked right after it. */
const NOW = ms(facts.sessions[facts.sessions.length - 1]!.stopped) + 60 * SECOND;

type Row = Record<string, unknown>;

/** What a question's check gets: its command's table output, the same command's JSON answer, and more runs if it needs them. */
interface Answer {
  readonly question: Question;
  readonly table: Run;
  readonly rows: () => Promise<Row[]>;
  readonly json: () => Promise<unknown>;
  readonly cli: (...args: string[]) => Promise<Run>;
}

/** The value of option `name` in the question's command. */
const option = (question: Question, name: string): string => {
  const index = question.argv.indexOf(name);
  if (index === -1) throw new Error(`question ${question.number} has no ${name}`);
  return question.argv[index + 1]!;
};
const num = (value: unknown): number => Number(value);

// ---------------------------------------------------------------------------------------------
// The checks, one per question id: what the answer must be, from the facts.

const CHECKS: Readonly<Record<string, (answer: Answer) => Promise<void>>> = {
  /** `ps --at T --sort rss --limit 10`: the memory hog first, then the largest of /proc at T. */
  'top-rss': async ({ question, table, rows }) => {
    expect(table.code).toBe(0);
    const at = option(question, '--at');
    const snapshot = facts.snapshots.find((s) => s.at === new Date(ms(at)).toISOString());
    expect(snapshot, `a snapshot of /proc at ${at}`).toBeDefined();
    const listed = await rows();
    expect(listed).toHaveLength(10);
    expect(listed[0]).toMatchObject({ pid: facts.processes.memhog.pid, user: 'root', cmdline: facts.processes.memhog.cmdline });
    expect(num(listed[0]!['rss'])).toBeGreaterThanOrEqual(facts.processes.memhog.allocated);
    const rss = listed.map((row) => num(row['rss']));
    expect(rss).toEqual([...rss].sort((a, b) => b - a));
    // The three largest are far apart (1 GiB, vwatchd, this script's node): /proc showed the same order.
    const largest = [...snapshot!.processes].sort((a, b) => b.rss - a.rss).slice(0, 3).map((p) => p.pid);
    expect(listed.slice(0, 3).map((row) => row['pid'])).toEqual(largest);
    const alive = new Set(snapshot!.processes.map((p) => p.pid));
    for (const row of listed) expect(alive.has(num(row['pid'])), `pid ${String(row['pid'])} was alive at ${at}`).toBe(true);
  },

  /** Processes per user at T: exactly what /proc held then. */
  'count-by-user': async ({ question, table, rows }) => {
    expect(table.code).toBe(0);
    const snapshot = facts.snapshots.find((s) => s.at === new Date(ms(option(question, '--at'))).toISOString());
    expect(snapshot).toBeDefined();
    const counts = new Map<string, number>();
    for (const p of snapshot!.processes) counts.set(p.user, (counts.get(p.user) ?? 0) + 1);
    expect(await rows()).toEqual([...counts].sort((a, b) => b[1] - a[1]).map(([user, processes]) => ({ user, processes })));
    expect(counts.get('nobody')).toBe(3);
  },

  /** The python3 processes at T: those /proc showed, by pid and command line. */
  'command-matching': async ({ question, table, rows }) => {
    expect(table.code).toBe(0);
    const snapshot = facts.snapshots.find((s) => s.at === new Date(ms(option(question, '--at'))).toISOString());
    expect(snapshot).toBeDefined();
    const python = snapshot!.processes.filter((p) => p.cmdline.startsWith('python3')).map((p) => ({ pid: p.pid, user: p.user, cmdline: p.cmdline }));
    expect(python.length).toBeGreaterThan(1);
    expect(await rows()).toEqual(python);
  },

  /** The busy loop's CPU in buckets of `--step`: its last value what /proc said when it was killed, its rates adding up to it. */
  'cpu-over-time': async ({ question, table, rows }) => {
    expect(table.code).toBe(0);
    const spin = facts.processes.spin;
    expect(question.argv.join(' ')).toContain(`pid = ${spin.pid}`);
    const step = Number(/^(\d+)s$/.exec(option(question, '--step'))![1]) * SECOND;
    const buckets = await rows();
    expect(buckets.length).toBeGreaterThan(2);
    const starts = buckets.map((row) => ms(String(row['ts'])));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    for (const start of starts) expect(start % step).toBe(0);
    // The first bucket holds its start, the last its end.
    expect(starts[0]! <= ms(spin.spawned) && ms(spin.spawned) < starts[0]! + step).toBe(true);
    expect(starts.at(-1)! <= ms(spin.exited!) && ms(spin.exited!) < starts.at(-1)! + step).toBe(true);
    // Sampled every second: a bucket it lived through whole holds one sample a second.
    for (const row of buckets.slice(1, -1)) expect(row['samples']).toBe(step / SECOND);
    const last = num(buckets.at(-1)!['cpu_ms']);
    expect(last).toBeLessThanOrEqual(spin.cpuMs);
    expect(last).toBeGreaterThanOrEqual(spin.cpuMs - 2 * SECOND);
    // One thread: at most one CPU; and the rates over the samples add up to the CPU time it used.
    for (const row of buckets) expect(num(row['cpu_ms_per_s'])).toBeLessThanOrEqual(1050);
    const summed = buckets.reduce((sum, row) => sum + num(row['cpu_ms_per_s']) * num(row['samples']), 0);
    expect(Math.abs(summed - last)).toBeLessThanOrEqual(0.1 * last + SECOND);
  },

  /** `diff --table processes`: what the workload started and ended between A and B, and nothing else. */
  'started-and-exited': async ({ question, table, json }) => {
    expect(table.code).toBe(0);
    const [from, to] = [ms(option(question, '--from')), ms(option(question, '--to'))];
    const lives = workload();
    // No workload process starts or ends near A or B, where the answer could go either way.
    for (const life of lives) for (const edge of [life.from, life.to]) expect(Math.abs(edge - from) > SEEN_WITHIN && Math.abs(edge - to) > SEEN_WITHIN).toBe(true);
    const within = (t: number): boolean => t > from && t < to;
    const expected = {
      appeared: lives.filter((l) => within(l.from) && l.to > to).map((l) => l.pid),
      disappeared: lives.filter((l) => l.from < from && within(l.to)).map((l) => l.pid),
      cameAndWent: lives.filter((l) => within(l.from) && within(l.to)).map((l) => l.pid),
    };
    expect(expected.appeared.length + expected.cameAndWent.length).toBeGreaterThan(0);
    const diff = (await json()) as { tables: { table: string; appeared: Entity[]; disappeared: Entity[]; cameAndWent: Entity[]; changed: Entity[] }[] };
    type Entity = { key: { pid: number }; since?: string; until?: string };
    const processes = diff.tables.find((t) => t.table === 'processes')!;
    const pids = (list: Entity[]) => list.map((e) => e.key.pid).sort((a, b) => a - b);
    expect({ appeared: pids(processes.appeared), disappeared: pids(processes.disappeared), cameAndWent: pids(processes.cameAndWent) }).toEqual({
      appeared: expected.appeared.sort((a, b) => a - b),
      disappeared: expected.disappeared.sort((a, b) => a - b),
      cameAndWent: expected.cameAndWent.sort((a, b) => a - b),
    });
    // Each seen within a sampling interval of when it really started and ended.
    for (const entity of [...processes.appeared, ...processes.cameAndWent]) {
      const life = lives.find((l) => l.pid === entity.key.pid)!;
      expect(ms(entity.since!) - life.from).toBeGreaterThanOrEqual(-SECOND);
      expect(ms(entity.since!) - life.from).toBeLessThanOrEqual(SEEN_WITHIN);
      if (entity.until !== undefined) expect(Math.abs(ms(entity.until) - life.to)).toBeLessThanOrEqual(SEEN_WITHIN);
    }
  },

  /** The writer first, with exactly the bytes /proc/PID/io gave it; its parent not yet (it reaps it later). */
  'top-writer': async ({ question, table, rows, cli }) => {
    expect(table.code).toBe(0);
    const writer = facts.processes.writer;
    const [from, to] = [ms(option(question, '--from')), ms(option(question, '--to'))];
    expect(from).toBeLessThan(ms(writer.spawned));
    expect(to).toBeGreaterThan(ms(writer.writtenAt) + SEEN_WITHIN);
    expect(to).toBeLessThan(ms(writer.exited!));
    const top = await rows();
    expect(top[0]).toMatchObject({ pid: writer.pid, written: writer.writeBytes });
    expect(writer.writeBytes).toBeGreaterThanOrEqual(64 * 2 ** 20);
    expect(top.slice(1).every((row) => num(row['written']) < writer.writeBytes / 10)).toBe(true);
    expect(top.map((row) => row['pid'])).not.toContain(facts.processes.root.pid);
    // What the doc says next: once the writer has exited and been reaped, its parent's counter holds its bytes too.
    const parent = facts.processes.root.pid;
    const after = await cli('query', '--at', new Date(ms(writer.exited!) + 2 * SECOND).toISOString(), `select write_bytes from process_stats where pid = ${parent}`, '--json');
    const grown = (JSON.parse(after.out) as { write_bytes: number }[])[0]!.write_bytes;
    expect(grown - writer.parentWriteBytes.beforeReap).toBeGreaterThanOrEqual(writer.writeBytes);
  },

  /** The highest load1 of the recording: what the script read from /proc/loadavg at its highest, when it did. */
  'peak-load': async ({ table, rows }) => {
    expect(table.code).toBe(0);
    const [row, ...rest] = await rows();
    expect(rest).toEqual([]);
    const peak = Math.max(...facts.loadavg.map(([, load]) => load));
    expect(num(row!['load1'])).toBe(peak);
    // The kernel updates the load average every 5 s: both saw that value within those seconds.
    const first = facts.loadavg.find(([, load]) => load === peak)![0];
    expect(Math.abs(ms(String(row!['ts'])) - ms(first))).toBeLessThanOrEqual(6 * SECOND);
  },

  /** Memory available before and after the 1 GiB hog: close to what the script read, about 1 GiB apart. */
  'memory-available': async ({ question, table, rows }) => {
    expect(table.code).toBe(0);
    const { memhog } = facts.processes;
    expect(ms(option(question, '--from'))).toBeLessThan(ms(memhog.spawned));
    expect(ms(option(question, '--to'))).toBeGreaterThan(ms(memhog.allocatedAt) + SECOND);
    const [row] = await rows();
    const MiB = 2 ** 20;
    const [first, last] = [num(row!['available_mib_first']) * MiB, num(row!['available_mib_last']) * MiB];
    // The rest of the machine moves too (other work on it): within 256 MiB of the script's own reads.
    expect(Math.abs(first - facts.memory.availableBeforeHog)).toBeLessThan(256 * MiB);
    expect(Math.abs(last - facts.memory.availableAfterHog)).toBeLessThan(256 * MiB);
    const drop = num(row!['drop_mib']) * MiB;
    expect(drop).toBe(first - last);
    expect(drop).toBeGreaterThan(0.6 * memhog.allocated);
    expect(drop).toBeLessThan(1.4 * memhog.allocated);
  },

  /** The one process that exec'd in the range, from its python3 command line to `sleep 45`, at the sample after the exec. */
  'exec-in-range': async ({ table, rows }) => {
    expect(table.code).toBe(0);
    const { exec } = facts.processes;
    const changed = await rows();
    expect(changed).toEqual([{ pid: exec.pid, changed_at: expect.any(String) as unknown, before: exec.before, after: exec.after }]);
    const lag = ms(String(changed[0]!['changed_at'])) - ms(exec.execAt);
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeLessThanOrEqual(SEEN_WITHIN);
  },

  /** An instant while vwatchd was stopped: no answer, but the recorded spans, which are the sessions the script ran. */
  'no-recording': async ({ question, table, cli }) => {
    const at = ms(option(question, '--at'));
    const [first, second] = facts.sessions;
    expect(at).toBeGreaterThan(ms(first!.stopped) + SECOND);
    expect(at).toBeLessThan(ms(second!.started) - SECOND);
    expect([table.code, table.out]).toEqual([1, '']);
    const said = /^virtualeyes: NOT_FOUND: no recording at (\S+); recordings cover (\S+)–(\S+) and (\S+)–(\S+)\n$/.exec(table.err);
    expect(said, table.err).not.toBeNull();
    expect(ms(said![1]!)).toBe(at);
    const day = said![2]!.slice(0, 11);
    const spans = [said![2]!, `${day}${said![3]!}`, said![4]!, `${day}${said![5]!}`].map(ms);
    const sessions = [first!.started, first!.stopped, second!.started, second!.stopped].map(ms);
    // The store's spans are its sessions: opened a moment before vwatchd says it records, closed before it exits.
    spans.forEach((span, i) => expect(Math.abs(span - sessions[i]!), `span edge ${i}`).toBeLessThanOrEqual(3 * SECOND));
    // The process that lived only in the gap is nowhere in the recording.
    const unseen = await cli('query', `select count(*) as n from processes where pid = ${facts.processes.unseen.pid} and cmdline = 'sleep 5'`, '--json');
    expect(JSON.parse(unseen.out)).toEqual([{ n: 0 }]);
  },
};

// ---------------------------------------------------------------------------------------------

describe('docs/querying.md worked questions', () => {
  const questions = parseQuestions(readFileSync(DOC, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 've-questions-'));
  const config = join(dir, 'vwatchd.conf');

  /** Runs the CLI on the copied store, the global options first as a user would put them. */
  const cli = async (...args: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const shown: string[] = [];
    // `ps` shows today's start times as times of day: "today" is the day of the recording.
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    try {
      const code = await runCli(['node', 'virtualeyes', '--data-dir', dir, '--config', config, '--socket', join(dir, 'none.sock'), ...args], {
        out: (text) => void (out.push(text), shown.push(text)),
        err: (text) => void (err.push(text), shown.push(text)),
        now: () => NOW,
      });
      return { code, out: out.join(''), err: err.join(''), shown: shown.join('') };
    } finally {
      vi.useRealTimers();
    }
  };

  beforeAll(() => {
    // Never the committed file in place: a private copy, as vwatchd would have left it.
    cpSync(join(FIXTURE, 'vwatchd.db'), join(dir, 'vwatchd.db'));
    writeFileSync(config, '{}\n', { mode: 0o600 });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('has ten questions, numbered in order, each with its own check', () => {
    expect(questions.map((q) => q.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(questions.map((q) => q.id).sort()).toEqual(Object.keys(CHECKS).sort());
    for (const q of questions) expect(q.argv[0], `question ${q.number}`).toBe('virtualeyes');
  });

  describe.each(questions.map((q) => [`${q.number}. ${q.title}`, q] as const))('%s', (_title, question) => {
    let table: Run;

    beforeAll(async () => {
      table = await cli(...question.argv.slice(1));
    });

    it('answers what the recording knew', async () => {
      const again = (...extra: string[]) => cli(...question.argv.slice(1), ...extra);
      const json = async (): Promise<unknown> => {
        const run = await again('--json');
        expect(run.code).toBe(0);
        return JSON.parse(run.out) as unknown;
      };
      await CHECKS[question.id]!({ question, table, json, rows: async () => (await json()) as Row[], cli });
    });

    it("prints the doc's excerpt", () => {
      const lines = table.shown.replace(/\n$/, '').split('\n');
      expect(matchesExcerpt(lines, question.excerpt), `real output:\n${table.shown}`).toBe(true);
    });
  });
});

describe('the doc parser', () => {
  it('splits command lines as a shell does, and refuses what needs one', () => {
    expect(shellWords(`virtualeyes query --at 2026-12-02T04:00:00Z "select 'a' as \\"x\\"" \\\n  --json`)).toEqual([
      'virtualeyes', 'query', '--at', '2026-12-02T04:00:00Z', `select 'a' as "x"`, '--json',
    ]);
    expect(shellWords(`virtualeyes 'it''s' a\\ b`)).toEqual(['virtualeyes', 'its', 'a b']);
    expect(() => shellWords('virtualeyes query "select $HOME"')).toThrow(/expansion/);
    expect(() => shellWords('virtualeyes ps | head')).toThrow(/needs a shell/);
  });

  it('matches an excerpt line for line, … standing for any lines', () => {
    expect(matchesExcerpt(['a', 'b', 'c'], ['a', '…', 'c'])).toBe(true);
    expect(matchesExcerpt(['a', 'c'], ['a', '…', 'c'])).toBe(true);
    expect(matchesExcerpt(['a', 'b  '], ['a', 'b'])).toBe(true);
    expect(matchesExcerpt(['a', 'b', 'c'], ['a', 'c'])).toBe(false);
    expect(matchesExcerpt(['a', 'x'], ['a', '…', 'c'])).toBe(false);
  });
});
