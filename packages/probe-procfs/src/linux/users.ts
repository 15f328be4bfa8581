/**
 * User names for uids, from /etc/passwd, cached for the probe's lifetime. An unknown uid
 * re-reads the file at most once per collection (a user added since the last read); a uid
 * still unknown after that is shown as its number, as ps does.
 */
import { isOk, type Result, type Status } from '@virtualeyes/core';
import { parsePasswd } from '../parse/passwd.js';

/** Looks up user names, re-reading passwd at most once per collection. */
export interface UserNames {
  /** Starts a collection: allows one more re-read of passwd. */
  begin(): void;
  /** The name of `uid`, or the uid as text when passwd has none. */
  name(uid: number): string;
  /** Why passwd could not be read in this collection, if it could not (reported once). */
  failure(): Status | undefined;
}

/** Creates a cache reading passwd through `read`. */
export function createUserNames(read: () => Result<string>): UserNames {
  let names: ReadonlyMap<number, string> = new Map();
  let reread = false;
  let failed: Status | undefined;
  return {
    begin() {
      reread = false;
      failed = undefined;
    },
    name(uid) {
      const known = names.get(uid);
      if (known !== undefined) return known;
      if (!reread) {
        reread = true;
        const text = read();
        const parsed = text.ok ? parsePasswd(text.value) : text;
        if (parsed.ok) names = parsed.value;
        else if (!isOk(parsed.status)) failed = parsed.status;
        const found = names.get(uid);
        if (found !== undefined) return found;
      }
      return String(uid);
    },
    failure: () => failed,
  };
}
