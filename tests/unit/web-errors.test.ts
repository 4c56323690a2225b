/**
 * The web app's error mapper: every failure shape supabase-js can hand the app becomes a code plus a message for
 * people. Uses the real error classes from @supabase/supabase-js so a library change that renames them shows here.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthApiError,
  AuthRetryableFetchError,
  AuthSessionMissingError,
  AuthWeakPasswordError,
  FunctionsHttpError,
  PostgrestError,
} from '@supabase/supabase-js';
import { AppError, NETWORK, errorMessage, fromFunctionsError, isHumanMessage, isSessionError, toAppError } from '../../web/src/lib/errors.ts';

describe('toAppError: GoTrue (auth-js) errors', () => {
  it('maps wrong credentials to a plain sentence', () => {
    const e = toAppError(new AuthApiError('Invalid login credentials', 400, 'invalid_credentials'));
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe('invalid_credentials');
    expect(e.status).toBe(400);
    expect(e.message).toBe("That email and password don't match. Check them and try again.");
  });

  it('tells a duplicate sign-up to sign in instead', () => {
    expect(toAppError(new AuthApiError('User already registered', 422, 'user_already_exists')).message).toMatch(/already exists.*Sign in/);
  });

  it('explains a weak password with the server’s reasons', () => {
    const e = toAppError(new AuthWeakPasswordError('Password should be at least 6 characters.', 422, ['length', 'characters']));
    expect(e.code).toBe('weak_password');
    expect(e.message).toBe('That password is too weak: make it longer, mix letters, digits and symbols.');
  });

  it('treats a retryable fetch failure as being offline, and a 5xx as the server’s fault', () => {
    expect(toAppError(new AuthRetryableFetchError('Failed to fetch', 0)).code).toBe(NETWORK);
    const e = toAppError(new AuthRetryableFetchError('Bad Gateway', 502));
    expect(e.code).toBe('server_error');
    expect(e.message).toMatch(/on its side/);
  });

  it('recognises session problems', () => {
    expect(isSessionError(new AuthSessionMissingError())).toBe(true);
    expect(isSessionError(new AuthApiError('Invalid Refresh Token: Refresh Token Not Found', 400, 'refresh_token_not_found'))).toBe(true);
    expect(isSessionError(new AuthApiError('Invalid login credentials', 400, 'invalid_credentials'))).toBe(false);
  });

  it('reads the legacy GoTrue body shape ({ code: <http>, error_code, msg })', () => {
    const e = toAppError({ code: 400, error_code: 'email_not_confirmed', msg: 'Email not confirmed' });
    expect(e.code).toBe('email_not_confirmed');
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/Confirm your email/);
  });
});

describe('toAppError: PostgREST errors', () => {
  const pg = (code: string, message: string, details: string | null = null) =>
    new PostgrestError({ code, message, details: details ?? '', hint: '' });

  it('never shows Postgres wording for an RLS refusal', () => {
    const e = toAppError(pg('42501', 'new row violates row-level security policy for table "memberships"'));
    expect(e.code).toBe('42501');
    expect(e.message).toBe("You don't have permission to do that in this shop.");
  });

  it('shows the message our RPC raised on purpose (P0001, 22023, 42501 with human text)', () => {
    expect(toAppError(pg('P0001', 'This invitation was sent to another email address.')).message).toBe(
      'This invitation was sent to another email address.',
    );
    expect(toAppError(pg('22023', 'Industry must be one of the listed kinds.')).message).toBe('Industry must be one of the listed kinds.');
    expect(toAppError(pg('42501', 'Only owners and admins can invite members.')).message).toBe('Only owners and admins can invite members.');
  });

  it('reads our RPCs’ "<code>: <sentence>" messages (create_tenancy migration)', () => {
    const expired = toAppError(pg('P0001', 'invitation_expired: this invitation has expired; ask the shop for a new one'));
    expect(expired.code).toBe('invitation_expired');
    expect(expired.message).toBe('This invitation has expired; ask the shop for a new one.');
    const phone = toAppError(pg('22023', 'invalid_phone: use the international format, e.g. +15551234567'));
    expect([phone.code, phone.message]).toEqual(['invalid_phone', 'Use the international format, e.g. +15551234567.']);
    const forbidden = toAppError(pg('42501', 'forbidden: only owners can change roles'));
    expect([forbidden.code, forbidden.message]).toEqual(['forbidden', 'Only owners can change roles.']);
    const anon = toAppError(pg('42501', 'not_authenticated: sign in first'));
    expect(anon.code).toBe('not_authenticated');
    expect(isSessionError(anon)).toBe(true);
    expect(toAppError(pg('P0001', 'last_owner: a shop needs at least one owner; make someone else an owner first')).message).toBe(
      'A shop needs at least one owner; make someone else an owner first.',
    );
  });

  it('turns a raised snake_case code into its code and sentence', () => {
    const e = toAppError(pg('P0001', 'invitation_expired'));
    expect(e.code).toBe('invitation_expired');
    expect(e.message).toBe('This invitation has expired. Ask the shop for a new one.');
    expect(toAppError(pg('P0001', 'invitation_used')).message).toMatch(/already been used/);
  });

  it('hides technical messages behind a sentence for integrity errors', () => {
    const e = toAppError(pg('23505', 'duplicate key value violates unique constraint "tenants_slug_key"', 'Key (slug)=(x) already exists.'));
    expect(e.message).toBe('That already exists.');
    expect(toAppError(pg('23502', 'null value in column "name" of relation "tenants" violates not-null constraint')).message).toBe(
      'Some required information is missing.',
    );
  });

  it('maps PGRST codes (missing RPC, no rows, bad JWT)', () => {
    expect(toAppError(pg('PGRST202', 'Could not find the function public.my_tenants without parameters in the schema cache')).message).toMatch(
      /doesn't offer that action yet/,
    );
    expect(toAppError(pg('PGRST116', 'JSON object requested, multiple (or no) rows returned')).message).toMatch(/couldn't find/);
    expect(isSessionError(pg('PGRST301', 'JWT expired'))).toBe(true);
  });

  it('recognises postgrest-js’s wrapped fetch failure (empty code) as offline', () => {
    const e = toAppError(new PostgrestError({ message: 'TypeError: Failed to fetch', details: 'TypeError: Failed to fetch', hint: '', code: '' }));
    expect(e.code).toBe(NETWORK);
    expect(e.message).toMatch(/Check your connection/);
  });

  it('falls back to a generic sentence for an unknown technical failure', () => {
    expect(toAppError(pg('XX000', 'internal error in relation "x"')).message).toMatch(/on its side/);
    expect(toAppError(pg('42P01', 'relation "public.nope" does not exist')).message).toBe('Something went wrong. Please try again.');
  });
});

describe('toAppError: our functions, fetch, and odd values', () => {
  it('keeps our { code, message } bodies as they are', () => {
    const e = toAppError({ code: 'quota_exceeded', message: 'Your trial includes 50 messages. Upgrade to keep sending.', status: 402 });
    expect(e.code).toBe('quota_exceeded');
    expect(e.status).toBe(402);
    expect(e.message).toBe('Your trial includes 50 messages. Upgrade to keep sending.');
  });

  it('reads a FunctionsHttpError’s JSON body', async () => {
    const res = new Response(JSON.stringify({ code: 'not_a_member', message: 'You are not a member of this shop.' }), {
      status: 403,
      headers: { 'content-type': 'application/json' },
    });
    const e = await fromFunctionsError(new FunctionsHttpError(res));
    expect(e.code).toBe('not_a_member');
    expect(e.status).toBe(403);
    expect(e.message).toBe("You're not a member of that shop.");
  });

  it('handles a FunctionsHttpError without JSON by its status', async () => {
    const e = await fromFunctionsError(new FunctionsHttpError(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })));
    expect(e.status).toBe(502);
    expect(e.message).toMatch(/on its side/);
  });

  it('maps a browser fetch TypeError to offline', () => {
    expect(toAppError(new TypeError('Failed to fetch')).code).toBe(NETWORK);
    expect(toAppError(new TypeError('NetworkError when attempting to fetch resource.')).code).toBe(NETWORK);
  });

  it('is idempotent and total', () => {
    const once = toAppError(new AuthApiError('Invalid login credentials', 400, 'invalid_credentials'));
    expect(toAppError(once)).toBe(once);
    expect(errorMessage(undefined)).toBe('Something went wrong. Please try again.');
    expect(errorMessage(42)).toBe('Something went wrong. Please try again.');
    expect(errorMessage('invitation_expired')).toMatch(/expired/);
  });

  it('judges which messages are fit for people', () => {
    expect(isHumanMessage('This invitation has expired.')).toBe(true);
    expect(isHumanMessage('permission denied for table tenants')).toBe(false);
    expect(isHumanMessage('column "x" does not exist')).toBe(false);
    expect(isHumanMessage('some_code')).toBe(false);
    expect(isHumanMessage('')).toBe(false);
  });
});
