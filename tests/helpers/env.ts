/**
 * What tests know about the running stack: the same keys `npm run status` prints.
 * The global setup fills process.env from .local/stack.env before any test file loads.
 */
function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: is the stack running? (npm run stack, or let the test command start it)`);
  return v;
}

export const env = {
  get apiUrl() { return need('API_URL'); },
  get anonKey() { return need('ANON_KEY'); },
  get serviceRoleKey() { return need('SERVICE_ROLE_KEY'); },
  get dbUrl() { return need('DB_URL'); },
  get jwtSecret() { return need('JWT_SECRET'); },
  get twilioApiUrl() { return need('TWILIO_API_URL'); },
  get twilioAccountSid() { return need('TWILIO_ACCOUNT_SID'); },
  get twilioAuthToken() { return need('TWILIO_AUTH_TOKEN'); },
  get twilioWebhookBaseUrl() { return need('TWILIO_WEBHOOK_BASE_URL'); },
  get stripeApiUrl() { return need('STRIPE_API_URL'); },
  get stripeSecretKey() { return need('STRIPE_SECRET_KEY'); },
  get stripeWebhookSecret() { return need('STRIPE_WEBHOOK_SECRET'); },
  get emailOutboxUrl() { return need('EMAIL_OUTBOX_URL'); },
  get dbKind() { return process.env.SP_DB_KIND ?? 'unknown'; },
};
