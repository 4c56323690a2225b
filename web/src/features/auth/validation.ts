/** Client-side checks that give instant, specific feedback. The server checks again and has the last word. */

export const MIN_PASSWORD_LENGTH = 8;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailProblem(email: string): string | null {
  const e = email.trim();
  if (!e) return 'Enter your email address.';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e)) return 'Enter a valid email address, like name@example.com.';
  return null;
}

export function passwordProblem(password: string, mode: 'sign-in' | 'sign-up'): string | null {
  if (!password) return 'Enter your password.';
  if (mode === 'sign-up' && password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  return null;
}
