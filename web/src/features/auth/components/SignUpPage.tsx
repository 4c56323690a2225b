import { useEffect, useState, type FormEvent } from 'react';
import { Alert, Button, ErrorRegion, Page, TextField } from '../../../lib/ui/index.ts';
import { Link, navigate, parseQuery, safeNext, useLocation, withNext } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { authStore, useAuth } from '../store.ts';
import { MIN_PASSWORD_LENGTH, emailProblem, passwordProblem } from '../validation.ts';
import { tenancyStore } from '../../tenancy/store.ts';
import { validateShop, type ShopErrors } from '../../tenancy/model.ts';
import { clearShopDraft, loadShopDraft, saveShopDraft } from '../../tenancy/draft.ts';
import { ShopFields } from '../../tenancy/components/ShopFields.tsx';

type Phase =
  | 'form' // nothing sent yet
  | 'creating' // request(s) in flight
  | 'shop_failed' // the account exists and is signed in; creating the shop failed: retry only that
  | 'confirm_email'; // the project wants the email confirmed before there is a session

/**
 * Sign-up. Two modes:
 * - a new shop (default): account + shop in one form; the shop is created with `create_tenant` right after the
 *   account, and the person lands on their shop's home.
 * - joining by invitation (`?next=/invite/<token>`): account only, then back to the invitation to accept it.
 */
export function SignUpPage() {
  const { search } = useLocation();
  const next = safeNext(parseQuery(search).get('next'), '');
  const joining = next.startsWith('/invite/');
  const status = useAuth((s) => s.status);
  const signedInEmail = useAuth((s) => s.user?.email ?? null);

  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [draft, setDraft] = useState(loadShopDraft);
  const [fieldErrors, setFieldErrors] = useState<{ email?: string | null; password?: string | null }>({});
  const [shopErrors, setShopErrors] = useState<ShopErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>('form');

  // Someone already signed in who opens this page: they need a shop, not another account.
  useEffect(() => {
    if (status === 'signed_in' && phase === 'form') navigate(joining ? next : '/create-shop', { replace: true });
  }, [status, phase, joining, next]);

  const createShop = async (): Promise<boolean> => {
    const v = validateShop(draft);
    if (!v.ok) {
      setShopErrors(v.errors);
      return false;
    }
    try {
      await tenancyStore.getState().createShop(v.shop);
      clearShopDraft();
      navigate('/', { replace: true });
      return true;
    } catch (err) {
      setError(`Your account is ready, but the shop wasn't created: ${errorMessage(err)} Check the details and try again.`);
      setPhase('shop_failed');
      return false;
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (phase === 'creating') return;

    if (phase === 'shop_failed') {
      setError(null);
      setPhase('creating');
      if (!(await createShop())) setPhase('shop_failed');
      return;
    }

    // Check everything before creating anything, so a typo in the shop form never leaves a half-made sign-up.
    const fe = { email: emailProblem(email), password: passwordProblem(password, 'sign-up') };
    const shop = joining ? null : validateShop(draft);
    setFieldErrors(fe);
    setShopErrors(shop && !shop.ok ? shop.errors : {});
    if (fe.email || fe.password || (shop && !shop.ok)) {
      setError('Some details need fixing: see the marked fields.');
      return;
    }
    setError(null);
    setPhase('creating');
    if (!joining) saveShopDraft(draft);
    try {
      const result = await authStore.getState().signUp(email, password);
      if (!result.signedIn) {
        setPhase('confirm_email');
        return;
      }
    } catch (err) {
      setError(errorMessage(err));
      setPhase('form');
      return;
    }
    if (joining) {
      navigate(next, { replace: true });
      return;
    }
    await createShop();
  };

  if (phase === 'confirm_email') {
    return (
      <Page title="Confirm your email" narrow>
        <Alert kind="info">
          We sent a confirmation link to <strong>{email.trim()}</strong>. Open it, then sign in here
          {joining ? ' to accept your invitation' : ' to finish setting up your shop (your details are saved on this device)'}.
        </Alert>
        <p className="aside">
          <Link to={withNext('/sign-in', next)}>Go to sign in</Link>
        </p>
      </Page>
    );
  }

  const busy = phase === 'creating';
  const accountDone = phase === 'shop_failed' || (phase === 'creating' && status === 'signed_in');

  return (
    <Page title={joining ? 'Create your account' : 'Start your free trial'} narrow>
      <p className="lead">
        {joining
          ? 'Create your ServicePro account, then accept the invitation to join the shop.'
          : 'Create your account and your shop in one step. Your 14-day free trial starts today.'}
      </p>
      <form onSubmit={submit} noValidate className="form">
        <ErrorRegion error={error} />
        {accountDone ? (
          <Alert kind="success">Account created for {signedInEmail ?? email.trim()}.</Alert>
        ) : (
          <fieldset className="fieldset" disabled={busy}>
            <legend>Your account</legend>
            <TextField
              label="Email"
              type="email"
              name="email"
              autoComplete="username"
              inputMode="email"
              autoCapitalize="none"
              spellCheck={false}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              error={fieldErrors.email}
              required
            />
            <TextField
              label="Password"
              type="password"
              name="new-password"
              autoComplete="new-password"
              hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              error={fieldErrors.password}
              required
              minLength={MIN_PASSWORD_LENGTH}
            />
          </fieldset>
        )}
        {joining ? null : (
          <ShopFields
            draft={draft}
            errors={shopErrors}
            onChange={(d) => {
              setDraft(d);
              saveShopDraft(d);
            }}
            disabled={busy}
          />
        )}
        <Button type="submit" busy={busy} busyLabel={joining ? 'Creating your account…' : 'Creating your shop…'}>
          {phase === 'shop_failed' ? 'Try creating the shop again' : joining ? 'Create account' : 'Create account and shop'}
        </Button>
      </form>
      {accountDone ? null : (
        <p className="aside">
          Already have an account? <Link to={withNext('/sign-in', next)}>Sign in</Link>
        </p>
      )}
    </Page>
  );
}
