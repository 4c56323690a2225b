import { useEffect, useState, type FormEvent } from 'react';
import { Button, ErrorRegion, Page, TextField } from '../../../lib/ui/index.ts';
import { Link, navigate, parseQuery, safeNext, useLocation, withNext } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { authStore, useAuth } from '../store.ts';
import { emailProblem, passwordProblem } from '../validation.ts';

export function SignInPage() {
  const { search } = useLocation();
  const next = safeNext(parseQuery(search).get('next'));
  const status = useAuth((s) => s.status);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<{ email?: string | null; password?: string | null }>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Already signed in (a restored session, or just now): go where the person was heading.
  useEffect(() => {
    if (status === 'signed_in') navigate(next, { replace: true });
  }, [status, next]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const fe = { email: emailProblem(email), password: passwordProblem(password, 'sign-in') };
    setFieldErrors(fe);
    if (fe.email || fe.password) {
      setError('Fill in your email and password.');
      return;
    }
    setError(null);
    setBusy(true);
    try {
      await authStore.getState().signIn(email, password);
      // The effect above navigates once the store says signed_in.
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <Page title="Sign in" heading="Sign in to ServicePro" narrow>
      <form onSubmit={submit} noValidate className="form">
        <ErrorRegion error={error} />
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
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldErrors.password}
          required
        />
        <Button type="submit" busy={busy} busyLabel="Signing in…">
          Sign in
        </Button>
      </form>
      <p className="aside">
        New to ServicePro? <Link to={withNext('/sign-up', next)}>Create an account</Link>
      </p>
    </Page>
  );
}
