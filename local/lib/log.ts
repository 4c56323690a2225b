import type { Logger } from './types.ts';

const quiet = () => process.env.SP_QUIET === '1';

/** A prefixed logger. Never pass secrets to it: it writes to the terminal and CI logs. */
export function logger(name: string): Logger {
  const p = `[${name}]`;
  return {
    info: (m) => { if (!quiet()) console.log(p, m); },
    warn: (m) => console.warn(p, m),
    error: (m) => console.error(p, m),
  };
}
