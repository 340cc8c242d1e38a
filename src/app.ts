import type { IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type Provider from 'oidc-provider';
import { createAdmin, type Admin } from './admin/index.ts';
import { createPasswordRecovery } from './accounts/recovery.ts';
import { createPasskeys } from './accounts/passkeys.ts';
import { createSecondFactors } from './accounts/second-factor.ts';
import { createEmailVerification } from './accounts/verification.ts';
import type { AuditLog } from './audit/index.ts';
import { composeParts, type Factories, type Parts } from './compose.ts';
import type { Config } from './config/schema.ts';
import type { ConnectionParts } from './connection/index.ts';
import type { Database } from './store/index.ts';
import { demoMigrationStatus } from './demo/migration-status.ts';
import { createDemoRoutes, demoClient } from './demo/relying-party.ts';
import type { Logger } from './log.ts';
import type { Mail } from './mail/index.ts';
import { loadKeyMaterial, signingKeysFingerprint, type KeyMaterial } from './oidc/keys.ts';
import { memoiseReadsPerRequest } from './oidc/adapter.ts';
import { createProvider } from './oidc/provider.ts';
import { createClientCheck, createStoredClients } from './oidc/stored-clients.ts';
import { createHealthRoutes } from './ops/health.ts';
import { createGaugeSampler } from './ops/gauges.ts';
import { createMetrics, type Metrics } from './ops/metrics.ts';
import { createMetricsRoutes } from './ops/metrics-routes.ts';
import { createAccountRoutes } from './pages/account.ts';
import { createInteractionRoutes } from './pages/interactions.ts';
import { createRecoveryRoutes } from './pages/recovery.ts';
import { createVerificationPages } from './pages/verification.ts';
import { createThrottle } from './security/throttle.ts';
import { createCsrf } from './web/csrf.ts';
import { errorHandler } from './web/errors.ts';
import { pinOriginToIssuer } from './web/issuer-origin.ts';
import { securityHeaders } from './web/security-headers.ts';
import { staticFiles } from './web/static.ts';
import { createViews, VIEWS_DIR } from './web/views.ts';

export interface Ferry {
  config: Config;
  db: Database;
  federation: ConnectionParts;
  /** The admin API and console (mounted on every provider). */
  admin: Admin;
  /** Outgoing mail through the outbox. */
  mail: Mail;
  /** Sign-ins, blocks and admin changes (src/audit). */
  audit: AuditLog;
  /** The Node request listener; it always reaches the current provider. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  provider(): Provider;
  /** Set once the server listens, so in-process relying parties (the demo) can reach it. */
  setInternalUrl(url: string): void;
  /** Picks up signing keys rotated by any instance; true when they changed. */
  reloadKeys(): Promise<boolean>;
  close(): Promise<void>;
}

const CLEANUP_EVERY_MS = 10 * 60 * 1000;

/** Builds the HTTP side of Ferry over the parts composed once in src/compose.ts (`factories` is for tests). */
export async function createFerry(config: Config, log: Logger, factories?: Partial<Factories>): Promise<Ferry> {
  let listeningPort: number | undefined = config.port || undefined;
  const metrics = createMetrics();
  const parts = await composeParts(config, {
    log,
    metrics,
    sandbox: { poolSize: config.sandboxPoolSize ?? Math.max(4, availableParallelism() * 2), ferryPort: () => listeningPort },
    ...(factories ? { factories } : {}),
  });
  try {
    return await assemble(config, log, parts, metrics, (port) => {
      listeningPort = port ?? listeningPort;
    });
  } catch (error) {
    await parts.shutDown();
    throw error;
  }
}

async function assemble(config: Config, log: Logger, parts: Parts, metrics: Metrics, setPort: (port: number | undefined) => void): Promise<Ferry> {
  const { db, queries, accounts, sandbox, legacyDemo, mail, connection: federation } = parts;
  const keys: KeyMaterial = await loadKeyMaterial(db);
  const views = createViews();
  const csrf = createCsrf(keys.cookieKeys[0]!);
  const models = queries.oidcModels;
  let internalUrl = config.issuer;
  // With a legacy connection configured, the first sign-ins should not wait for sandbox processes
  // to start; without one they start with the first script (a connection enabled later, a test).
  if (config.connection.enabled) sandbox.start();
  const sampleGauges = createGaugeSampler({ metrics, db, sandbox, connection: federation, mail });
  const { signIn } = federation;
  const demo = config.demo ? demoClient(config.issuer, keys.cookieKeys[0]!) : undefined;
  const storedClients = createStoredClients(queries.clients);
  const admin = createAdmin({
    config,
    db,
    queries,
    connection: federation,
    views,
    csrf,
    reloadKeys: () => reloadKeys(),
    audit: parts.audit,
    clients: { configured: [...config.clients, ...(demo ? [demo] : [])], check: createClientCheck(() => current), changed: storedClients.forget },
  });

  // Built once: a key rotation rebuilds the provider, not the routes around it (they reach it through `current`).
  const assets = staticFiles(join(VIEWS_DIR, 'static'));
  const health = createHealthRoutes(db, () => sandbox.broken).routes();
  const metricsRoutes = config.metrics ? createMetricsRoutes(metrics, { token: config.metricsToken, refresh: sampleGauges }).routes() : undefined;
  const mailAvailable = mail.enabled || config.demo;
  const verification = createEmailVerification({
    issuer: config.issuer,
    linkMinutes: config.registration.verificationLinkMinutes,
    perHour: config.registration.verificationMailsPerHour,
    accounts: queries.accounts,
    queries: queries.emailVerifications,
    mail,
    log,
  });
  const verificationPages = createVerificationPages({
    provider: () => current,
    verification,
    mailEnabled: mail.enabled,
    available: mailAvailable,
    required: config.registration.requireVerifiedEmail,
    views,
    csrf,
  });
  if (config.registration.requireVerifiedEmail && !mail.enabled && !config.demo) {
    log.warn('registration.requireVerifiedEmail is on but mail.smtpUrl is not set: users with an unverified address cannot sign in');
  }
  const secondFactors = createSecondFactors({
    issuer: config.issuer,
    queries: queries.secondFactors,
    accounts,
    sessions: queries.sessions,
    log,
    audit: parts.audit,
  });
  const passkeys = createPasskeys({
    issuer: config.issuer,
    rpName: config.mfa.passkeyRpName,
    queries: queries.passkeys,
    secondFactors,
    sessions: queries.sessions,
    log,
    audit: parts.audit,
  });
  const interactions = createInteractionRoutes({
    provider: () => current,
    signIn,
    views,
    csrf,
    registration: true,
    verification: verificationPages,
    secondFactors,
    passkeys,
    mfaRequired: config.mfa.required,
    throttle: federation.throttle,
  }).routes();
  const reset = config.passwordReset;
  const recovery = createPasswordRecovery({
    issuer: config.issuer,
    subjectPrefix: config.subjectPrefix,
    linkMinutes: reset.linkMinutes,
    revokeSessions: reset.revokeSessions,
    policy: config.passwordPolicy,
    accounts,
    legacy: federation.legacyRecovery,
    queries: queries.passwordResets,
    throttle: createThrottle(queries.throttle, reset.throttle),
    revokeAccount: (sub) => models.revokeAccount(sub),
    mail,
    log,
    audit: parts.audit,
  });
  const recoveryRoutes = createRecoveryRoutes({
    recovery,
    available: mailAvailable,
    linkMinutes: reset.linkMinutes,
    revokeSessions: reset.revokeSessions,
    minPasswordLength: config.passwordPolicy.minLength,
    views,
    csrf,
  }).routes();
  const account = createAccountRoutes({
    provider: () => current,
    changePassword: signIn.changePassword,
    checkPassword: signIn.checkPassword,
    claimsOf: (sub) => signIn.findClaims(sub),
    accounts,
    updateAccount: queries.accounts.update,
    verification,
    mailAvailable,
    models,
    secondFactors,
    passkeys,
    throttle: federation.throttle,
    views,
    csrf,
  }).routes();

  const build = (material: KeyMaterial): Provider => {
    const provider = createProvider({
      config,
      keys: material,
      models,
      views,
      log,
      findClaims: (sub) => signIn.findClaims(sub),
      extraClients: demo ? [demo] : [],
      storedClients,
    });
    provider.use(pinOriginToIssuer(config.issuer));
    // Outside the request scope, so a write deferred to the end of a request that fails is answered with the error page too.
    provider.use(errorHandler({ views, log }));
    provider.use(memoiseReadsPerRequest);
    provider.use(securityHeaders({ hsts: config.issuer.startsWith('https:') }));
    provider.use(assets);
    provider.use(health);
    provider.use(admin.middleware);
    if (metricsRoutes) provider.use(metricsRoutes);
    provider.use(interactions);
    provider.use(recoveryRoutes);
    provider.use(verificationPages.routes());
    provider.use(account);
    if (demo) {
      const demoRoutes = createDemoRoutes({
        issuer: config.issuer,
        internalUrl: () => internalUrl,
        client: demo,
        views,
        csrf,
        ...(legacyDemo ? { extras: (sub: string | undefined) => demoMigrationStatus(queries.accounts, sub) } : {}),
      });
      provider.use(demoRoutes.routes());
      provider.use(async (ctx, next) => (ctx.path === '/' ? ctx.redirect('/demo') : next()));
    }
    return provider;
  };

  let current = build(keys);
  let handler = current.callback();
  let fingerprint = keys.fingerprint;

  /** oidc-provider's keystore is fixed at construction: a rotation (by any instance) rebuilds the provider. */
  const reloadKeys = async (): Promise<boolean> => {
    if ((await signingKeysFingerprint(db)) === fingerprint) return false;
    const material = await loadKeyMaterial(db);
    current = build(material);
    handler = current.callback();
    fingerprint = material.fingerprint;
    log.info({ keys: material.signingKeys.length }, 'signing keys reloaded');
    return true;
  };

  const every = (ms: number, task: () => Promise<unknown>, what: string) => {
    const timer = setInterval(() => void task().catch((error: unknown) => log.warn({ err: error }, `${what} failed`)), ms);
    timer.unref();
    return timer;
  };
  const timers = [
    every(CLEANUP_EVERY_MS, () => models.deleteExpired(), 'expired model clean-up'),
    every(config.keyRefreshSeconds * 1000, reloadKeys, 'signing key check'),
    every(CLEANUP_EVERY_MS, () => federation.executions.prune(), 'execution log clean-up'),
    every(CLEANUP_EVERY_MS, () => federation.throttle.prune(), 'throttle clean-up'),
    every(CLEANUP_EVERY_MS, () => parts.audit.prune(), 'audit log clean-up'),
    every(CLEANUP_EVERY_MS, () => admin.limiter.prune(), 'admin rate limit clean-up'),
    every(CLEANUP_EVERY_MS, () => recovery.prune(), 'password reset link clean-up'),
    every(CLEANUP_EVERY_MS, () => verificationPages.prune(), 'email verification link clean-up'),
  ];
  mail.start({ demo: config.demo });
  // Before any part stops (src/compose.ts): no timer fires on a closed part, no reset is half sent.
  parts.onShutDown(() => {
    for (const timer of timers) clearInterval(timer);
  });
  parts.onShutDown(() => recovery.settle());
  // Picks up a sweep another instance left (src/connection/sweep.ts); compose.ts stops it at shut-down.
  parts.connection.sweep.watch();

  return {
    config,
    db,
    federation,
    admin,
    mail,
    audit: parts.audit,
    handle: (req, res) => void handler(req, res),
    provider: () => current,
    setInternalUrl(url) {
      internalUrl = url;
      setPort(Number(new URL(url).port) || undefined);
    },
    reloadKeys,
    close: parts.shutDown,
  };
}
