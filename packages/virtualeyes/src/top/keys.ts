/**
 * What a key does in `virtualeyes top`: a pure step from one view to the next, plus what the
 * session must then do (load another instant, quit…). Key names are terminal-kit's (`UP`,
 * `PAGE_DOWN`, `ENTER`, `ESCAPE`, `BACKSPACE`, `CTRL_C`, or the character typed).
 */
import type { PsSort } from '../ps.js';
import { TOP_SORTS, type TopView } from './render.js';

/** What the session does after a key. */
export type TopAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'quit' }
  /** Replay: to the sample before (-1) or after (+1) the one shown. */
  | { readonly kind: 'step'; readonly direction: -1 | 1 }
  /** Replay: by this many milliseconds from the instant shown. */
  | { readonly kind: 'jump'; readonly ms: number }
  /** Replay: to the instant typed (to parse as the CLI's times). */
  | { readonly kind: 'goto'; readonly text: string }
  /** Live: the interval typed (to parse as a duration). */
  | { readonly kind: 'interval'; readonly text: string }
  /** Live: pause toggled; resumed means load now. */
  | { readonly kind: 'resume' };

/** The next view and the action, after `key` in `view` with `rows` process rows on screen. */
export interface KeyResult {
  readonly view: TopView;
  readonly action: TopAction;
}

const NONE: TopAction = { kind: 'none' };
const MINUTE = 60_000;
const HOUR = 3_600_000;

const SORT_KEYS: Readonly<Record<string, PsSort>> = { c: 'cpu', C: 'cpu', P: 'cpu', m: 'rss', M: 'rss', i: 'io', D: 'io', p: 'pid', N: 'pid' };

const PROMPTS = { '/': 'filter', u: 'user', d: 'interval', b: 'time' } as const;

/** Applies `key` to `view`; `rows` is how many process rows the screen holds (for paging). */
export function applyKey(view: TopView, key: string, rows: number): KeyResult {
  const cleared: TopView = view.message === undefined ? view : withoutMessage(view);
  if (key === 'CTRL_C') return { view: cleared, action: { kind: 'quit' } };
  if (cleared.prompt !== undefined) return promptKey(cleared, key);
  if (cleared.help) return { view: { ...cleared, help: false }, action: NONE };
  const page = Math.max(1, rows);
  switch (key) {
    case 'q':
    case 'Q':
      return { view: cleared, action: { kind: 'quit' } };
    case '?':
    case 'h':
    case 'F1':
      return { view: { ...cleared, help: true }, action: NONE };
    case 's':
      return { view: { ...cleared, sort: TOP_SORTS[(TOP_SORTS.indexOf(cleared.sort) + 1) % TOP_SORTS.length]!, scroll: 0 }, action: NONE };
    case 'V':
    case 'v':
    case 'F5':
      return { view: { ...cleared, tree: !cleared.tree, scroll: 0 }, action: NONE };
    case 'UP':
      return { view: { ...cleared, scroll: Math.max(0, cleared.scroll - 1) }, action: NONE };
    case 'DOWN':
      return { view: { ...cleared, scroll: cleared.scroll + 1 }, action: NONE };
    case 'PAGE_UP':
      return { view: { ...cleared, scroll: Math.max(0, cleared.scroll - page) }, action: NONE };
    case 'PAGE_DOWN':
      return { view: { ...cleared, scroll: cleared.scroll + page }, action: NONE };
    case 'HOME':
      return { view: { ...cleared, scroll: 0 }, action: NONE };
    case '/':
    case 'u':
      return { view: { ...cleared, prompt: { label: PROMPTS[key], text: key === '/' ? cleared.filter : cleared.user } }, action: NONE };
  }
  const sort = SORT_KEYS[key];
  if (sort !== undefined) return { view: { ...cleared, sort, scroll: 0 }, action: NONE };
  if (cleared.mode === 'live') {
    if (key === 'z' || key === ' ') return { view: { ...cleared, paused: !cleared.paused }, action: cleared.paused ? { kind: 'resume' } : NONE };
    if (key === 'd') return { view: { ...cleared, prompt: { label: PROMPTS.d, text: '' } }, action: NONE };
    return { view: cleared, action: NONE };
  }
  switch (key) {
    case 't':
    case 'LEFT':
      return { view: cleared, action: { kind: 'step', direction: -1 } };
    case 'T':
    case 'RIGHT':
      return { view: cleared, action: { kind: 'step', direction: 1 } };
    case '[':
      return { view: cleared, action: { kind: 'jump', ms: -MINUTE } };
    case ']':
      return { view: cleared, action: { kind: 'jump', ms: MINUTE } };
    case '{':
      return { view: cleared, action: { kind: 'jump', ms: -HOUR } };
    case '}':
      return { view: cleared, action: { kind: 'jump', ms: HOUR } };
    case 'b':
      return { view: { ...cleared, prompt: { label: PROMPTS.b, text: '' } }, action: NONE };
  }
  return { view: cleared, action: NONE };
}

/** A key while a line is typed: Enter applies it, Esc cancels, Backspace deletes, a character adds. */
function promptKey(view: TopView, key: string): KeyResult {
  const prompt = view.prompt!;
  const closed: TopView = withoutPrompt(view);
  if (key === 'ESCAPE') return { view: closed, action: NONE };
  if (key === 'ENTER' || key === 'KP_ENTER') {
    const text = prompt.text.trim();
    switch (prompt.label) {
      case PROMPTS['/']:
        return { view: { ...closed, filter: text, scroll: 0 }, action: NONE };
      case PROMPTS.u:
        return { view: { ...closed, user: text, scroll: 0 }, action: NONE };
      case PROMPTS.d:
        return { view: closed, action: text === '' ? NONE : { kind: 'interval', text } };
      default:
        return { view: closed, action: text === '' ? NONE : { kind: 'goto', text } };
    }
  }
  if (key === 'BACKSPACE' || key === 'DELETE') return { view: { ...view, prompt: { ...prompt, text: [...prompt.text].slice(0, -1).join('') } }, action: NONE };
  // One printable character (terminal-kit names the others in capitals: UP, CTRL_A…); 200 at most.
  if ([...key].length === 1 && !/\p{Cc}/u.test(key) && prompt.text.length < 200) return { view: { ...view, prompt: { ...prompt, text: prompt.text + key } }, action: NONE };
  return { view, action: NONE };
}

function withoutPrompt(view: TopView): TopView {
  const { prompt: _prompt, ...rest } = view;
  return rest;
}

function withoutMessage(view: TopView): TopView {
  const { message: _message, ...rest } = view;
  return rest;
}
