/**
 * Inbound keywords (case-insensitive, surrounding whitespace and trailing punctuation ignored), as carriers and
 * Twilio's default opt-out handling treat them.
 */
export type Keyword = 'stop' | 'start' | 'help';

const STOP = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const START = new Set(['START', 'UNSTOP', 'YES']);
const HELP = new Set(['HELP', 'INFO']);

export function classifyKeyword(body: string | null | undefined, optOutType?: string | null): Keyword | null {
  const word = (body ?? '').normalize('NFKC').trim().replace(/[.!?]+$/, '').trim().toUpperCase();
  if (STOP.has(word)) return 'stop';
  if (START.has(word)) return 'start';
  if (HELP.has(word)) return 'help';
  // Twilio's Advanced Opt-Out may match custom keywords and says so in OptOutType.
  const t = (optOutType ?? '').toUpperCase();
  if (t === 'STOP') return 'stop';
  if (t === 'START') return 'start';
  if (t === 'HELP') return 'help';
  return null;
}
