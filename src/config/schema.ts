import { z } from 'zod';
import { egressSchema, limitsSchema, upgradeConnectionSettings } from '../sandbox/limits.ts';

/** Numbers and booleans may arrive as strings from the environment. */
const integer = () => z.coerce.number().int();
const boolean = () =>
  z.preprocess((value) => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value;
  }, z.boolean());

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/**
 * A relying party, in oidc-provider's client metadata format. Ferry checks the fields it relies on
 * here; oidc-provider validates the rest when it starts and Ferry reports its complaints by key.
 */
const client = z
  .looseObject({
    client_id: z.string().min(1),
    client_secret: z.string().min(1).optional(),
    redirect_uris: z.array(httpUrl).min(1),
    post_logout_redirect_uris: z.array(httpUrl).optional(),
    grant_types: z.array(z.string()).optional(),
    response_types: z.array(z.string()).optional(),
    token_endpoint_auth_method: z.string().optional(),
    /** Ferry extension: a first-party client whose users are not asked for consent. */
    skip_consent: z.boolean().optional(),
    /**
     * Ferry extension: PKCE (S256) is required of every client; `true` lets a legacy confidential
     * client that cannot send a code_challenge leave it out. Its client secret then is all that
     * protects a stolen code. A public client (token_endpoint_auth_method none) always needs PKCE.
     */
    pkce_optional: z.boolean().optional(),
    /**
     * Ferry extension: every sign-in to this client needs a second factor; a user without one
     * enrols an authenticator app during the sign-in (README, "Two-step verification").
     */
    require_mfa: z.boolean().optional(),
  })
  .refine((value) => !(value.pkce_optional && value.token_endpoint_auth_method === 'none'), {
    message: 'a public client (token_endpoint_auth_method none) cannot skip PKCE',
    path: ['pkce_optional'],
  });
export type ClientConfig = z.infer<typeof client>;

/** One brute-force policy (see src/security/throttle.ts). */
const throttlePolicy = (defaults: { freeFailures: number; baseDelayMs: number; maxDelayMs: number; maxFailures: number; resetAfterSeconds: number }) =>
  z
    .strictObject({
      /** Failures allowed without delay. */
      freeFailures: integer().min(0).max(1000).default(defaults.freeFailures),
      /** Delay after the first counted failure; it doubles with each further one. */
      baseDelayMs: integer().min(0).max(3_600_000).default(defaults.baseDelayMs),
      maxDelayMs: integer().min(0).max(3_600_000).default(defaults.maxDelayMs),
      /** Consecutive failures after which every attempt is refused until the window passes (at most 100 for accounts). */
      maxFailures: integer().min(1).max(1_000_000).default(defaults.maxFailures),
      /** Without a failure for this long, the count starts again. */
      resetAfterSeconds: integer().min(1).max(86_400).default(defaults.resetAfterSeconds),
    })
    .default(defaults);

/** Lifetimes in seconds of what the provider issues. */
const ttl = z.strictObject({
  /** The browser session at Ferry (sign-in is remembered this long). */
  session: integer()
    .positive()
    .default(14 * 24 * 3600),
  /** A login or consent page may stay open this long. */
  interaction: integer().positive().default(3600),
  authorizationCode: integer().positive().default(60),
  accessToken: integer().positive().default(3600),
  idToken: integer().positive().default(3600),
  refreshToken: integer()
    .positive()
    .default(14 * 24 * 3600),
  /** A user's consent to a client is remembered this long. */
  grant: integer()
    .positive()
    .default(365 * 24 * 3600),
});

/** The custom-database connection: where unmigrated (or all) users live, and the scripts that reach them. */
export const connectionSchema = z.strictObject({
  /** Off: only Ferry's own accounts sign in. On: the scripts run as `mode` says. */
  enabled: boolean().default(false),
  /** LAZY_MIGRATION copies each user on first sign-in; CUSTOM_USER_STORE keeps every user in the legacy database. */
  mode: z.enum(['LAZY_MIGRATION', 'CUSTOM_USER_STORE']).default('LAZY_MIGRATION'),
  /**
   * The scripts' `env`: DB_CONNECTION_URI (URI form) or DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD,
   * DB_DATABASE (programmatic form), plus any variables of your own. Values are strings.
   */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and underscores'), z.coerce.string()).default({}),
  /** A folder of `<scriptName>.js` files; when set, the files are the scripts (else the database holds them). */
  scriptsDir: z.string().min(1).optional(),
  /** Sandbox limits for this connection's scripts. */
  limits: limitsSchema.default(limitsSchema.parse({})),
  /** Where this connection's scripts may connect (databases and HTTP); see egressSchema. */
  egress: egressSchema.default({ allow: [] }),
  /** Show a login script's own error message to end users (GenAuth's behaviour). Off: one message for every failure. */
  showScriptErrors: boolean().default(false),
  /** CUSTOM_USER_STORE: how long `getUser` answers are reused for claims, in seconds (0 turns the cache off). */
  claimsCacheSeconds: integer().min(0).max(3600).default(30),
  /**
   * LAZY_MIGRATION. Off (the default, as the product contract says): the migrated account is
   * created with Ferry's own argon2id hash of the password just verified. On, an opt-in for
   * throughput: when the login script verified the password with bcrypt.compare against a hash of
   * cost 10 or more, the account keeps that hash until the user's next sign-in replaces it with
   * argon2id (a first sign-in then costs one bcrypt check, not a bcrypt check and an argon2id hash).
   */
  adoptLegacyHashes: boolean().default(false),
  /** Scripts of this connection running at once (per instance); more wait, up to their deadline. */
  maxConcurrentScripts: integer().min(1).max(1024).default(32),
  /**
   * Circuit breaker: after `failureThreshold` consecutive unavailable or timed-out executions, scripts
   * are not run for `openSeconds` (unmigrated users are told at once that sign-in is unavailable);
   * then one probe decides whether to close it again.
   */
  breaker: z
    .strictObject({ failureThreshold: integer().min(1).max(1000).default(5), openSeconds: integer().min(1).max(3600).default(10) })
    .default({ failureThreshold: 5, openSeconds: 10 }),
});
export type ConnectionConfig = z.output<typeof connectionSchema>;

/**
 * Outgoing mail (password reset, "your password changed"). Every mail goes through an outbox table
 * in Ferry's database first, and a sender loop in each instance delivers it: a crash or an SMTP
 * outage loses nothing, and several instances share the work without sending a mail twice in
 * normal operation. Delivery is at least once: an instance that dies after the SMTP server took a
 * mail but before recording it as sent leaves it to be sent again when its lease ends.
 */
const mail = z
  .strictObject({
    /**
     * `smtp://user:password@host:587` (STARTTLS when the server offers it) or `smtps://…:465` (TLS
     * from the first byte). Without it no mail leaves Ferry: mails are kept in the outbox as "held",
     * readable in the console (for the demo and development), and a production start warns that
     * password reset is off. The password never reaches a log line.
     */
    smtpUrl: z
      .string()
      .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
      .optional(),
    /** The From header, e.g. `Example <no-reply@example.com>`. Required with `smtpUrl`. */
    from: z.string().min(3).max(320).optional(),
    /** With smtp://, refuse to send unless the server upgrades the connection with STARTTLS. */
    requireTls: boolean().default(false),
    /**
     * A folder whose `<mail>/{subject,text,html}.ejs` files replace Ferry's own (views/mail/);
     * any file missing there is taken from Ferry's.
     */
    templatesDir: z.string().min(1).optional(),
    /** Failed deliveries are tried again after `baseDelaySeconds`, doubling up to `maxDelaySeconds`, `maxAttempts` times in all. */
    retry: z
      .strictObject({
        maxAttempts: integer().min(1).max(100).default(10),
        baseDelaySeconds: integer().min(1).max(86_400).default(30),
        maxDelaySeconds: integer().min(1).max(86_400).default(3600),
      })
      .default({ maxAttempts: 10, baseDelaySeconds: 30, maxDelaySeconds: 3600 }),
    /** How often each instance looks for mail to send (a mail queued by the instance itself is sent at once). */
    pollIntervalMs: integer().min(50).max(60_000).default(2000),
    /**
     * How long an instance owns a mail it took for sending. Longer than the slowest SMTP exchange
     * (Ferry gives up on one after 50 s); an instance that dies holding a mail delays it this long.
     */
    leaseSeconds: integer().min(60).max(3600).default(120),
    /** Sent, failed and held mails are deleted after this many days (sent mails lose their bodies at once). */
    retentionDays: integer().min(1).max(3650).default(7),
  })
  .refine((value) => !value.smtpUrl || value.from, { message: 'is required with mail.smtpUrl', path: ['from'] })
  .default({
    requireTls: false,
    retry: { maxAttempts: 10, baseDelaySeconds: 30, maxDelaySeconds: 3600 },
    pollIntervalMs: 2000,
    leaseSeconds: 120,
    retentionDays: 7,
  });
export type MailConfig = z.output<typeof mail>;

export const configSchema = z.strictObject({
  /** Public URL of the provider, the `iss` of every token. Default: `http://localhost:<port>`. */
  issuer: httpUrl
    .refine((value) => !/[?#]/.test(value), 'must not contain a query or fragment')
    .refine((value) => !value.endsWith('/'), 'must not end with a slash')
    .optional(),
  /** TCP port to listen on; 0 picks a free one. */
  port: integer().min(0).max(65535).default(3000),
  /** Address to listen on. */
  host: z.string().min(1).default('0.0.0.0'),
  /** PostgreSQL URL for Ferry's own data. Without it, embedded PGlite keeps the data in `dataDir`. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /**
   * Send Ferry's repeated statements to PostgreSQL as named prepared statements (parsed and planned
   * once per connection). Turn off behind a pooler in transaction mode that does not keep them
   * (PgBouncer before 1.21, or without `max_prepared_statements`).
   */
  databasePreparedStatements: boolean().default(true),
  /** Folder for the embedded database (only used without `databaseUrl`). */
  dataDir: z.string().min(1).default('./data'),
  /** Bearer token for the admin API; at least 32 characters. Without it the admin API is off. */
  adminToken: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Relying parties allowed to sign users in. */
  clients: z.array(client).default([]),
  /** Trust `X-Forwarded-*` headers from a reverse proxy that terminates TLS. */
  trustProxy: boolean().default(false),
  /**
   * With `trustProxy`: how many proxies of your own stand in front of Ferry, each appending to
   * `X-Forwarded-For`. The client address is the entry that many places from the right; anything
   * further left was sent by the client and could be forged (a new address for every guess).
   */
  trustedProxyHops: integer().min(1).max(16).default(1),
  /** pino log level. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve the demo relying party at `/demo`. Default: on only when Ferry runs without any configuration. */
  demo: boolean().optional(),
  /** Token and session lifetimes. */
  ttl: ttl.default(ttl.parse({})),
  /** Prefix put in front of every `sub` (so subjects of several providers cannot collide). */
  subjectPrefix: z.string().max(64).default(''),
  /** Extra profile fields released as claims of the same name under the `profile` scope. */
  customClaims: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)).default([]),
  /**
   * What the login page says to a blocked user (an operator blocked them in the console or API).
   * Said whatever password was typed, and before any password is checked, so it tells whoever
   * types the identifier that the account exists and is blocked: set it to the wrong-credentials
   * sentence if that is not acceptable (README, Security).
   */
  blockedUserMessage: z.string().min(1).max(500).default('This account has been blocked. Please contact support.'),
  /** Password rules for accounts Ferry stores. */
  passwordPolicy: z
    .strictObject({
      minLength: integer().min(1).max(64).default(8),
    })
    .default({ minLength: 8 }),
  /** The custom-database connection (see README, "Custom databases"). */
  // A configuration written before `egress` existed has `limits.httpAllowlist`: it is read as `egress.allow`.
  connection: z.preprocess(upgradeConnectionSettings, connectionSchema.default(connectionSchema.parse({}))),
  /** Brute-force throttling of password checks, per account and per client IP. */
  bruteForce: z
    .strictObject({
      account: throttlePolicy({ freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 60_000, maxFailures: 100, resetAfterSeconds: 3600 }),
      ip: throttlePolicy({ freeFailures: 20, baseDelayMs: 500, maxDelayMs: 30_000, maxFailures: 1_000_000, resetAfterSeconds: 900 }),
    })
    .refine((value) => value.account.maxFailures <= 100, {
      message: 'account.maxFailures may be at most 100 (NIST SP 800-63B)',
      path: ['account', 'maxFailures'],
    })
    .default({
      account: { freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 60_000, maxFailures: 100, resetAfterSeconds: 3600 },
      ip: { freeFailures: 20, baseDelayMs: 500, maxDelayMs: 30_000, maxFailures: 1_000_000, resetAfterSeconds: 900 },
    }),
  /** The audit log (sign-ins, blocks, admin changes): how long its events are kept in the store. */
  audit: z.strictObject({ retentionDays: integer().min(1).max(3650).default(90) }).default({ retentionDays: 90 }),
  /** Outgoing mail: SMTP server, sender, templates and the outbox's retries. */
  mail,
  /** "Forgot password?" on the hosted login page (needs `mail.smtpUrl`, except in the demo). */
  passwordReset: z
    .strictObject({
      /** Minutes a reset link works (it works once). */
      linkMinutes: integer().min(5).max(1440).default(30),
      /** After a reset, sign the user out everywhere: every session, grant (consent) and token of the user is deleted. */
      revokeSessions: boolean().default(true),
      /**
       * Reset requests per identifier typed and per client IP, counted whether or not the account
       * exists (so the answer tells nothing): each request counts as one attempt of the policy.
       */
      throttle: z
        .strictObject({
          account: throttlePolicy({ freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 900_000, maxFailures: 10, resetAfterSeconds: 3600 }),
          ip: throttlePolicy({ freeFailures: 20, baseDelayMs: 1000, maxDelayMs: 60_000, maxFailures: 200, resetAfterSeconds: 900 }),
        })
        .default({
          account: { freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 900_000, maxFailures: 10, resetAfterSeconds: 3600 },
          ip: { freeFailures: 20, baseDelayMs: 1000, maxDelayMs: 60_000, maxFailures: 200, resetAfterSeconds: 900 },
        }),
    })
    .default({
      linkMinutes: 30,
      revokeSessions: true,
      throttle: {
        account: { freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 900_000, maxFailures: 10, resetAfterSeconds: 3600 },
        ip: { freeFailures: 20, baseDelayMs: 1000, maxDelayMs: 60_000, maxFailures: 200, resetAfterSeconds: 900 },
      },
    }),
  /** Self-registration on the hosted pages and email verification of Ferry's own accounts. */
  registration: z
    .strictObject({
      /**
       * Hold back every sign-in of an account whose email address is not verified (a page says to
       * open the mailed link, with a button to send a new one). Off by default: an unverified user
       * signs in, and relying parties see `email_verified: false`. Accounts without an email
       * address, and those of a custom user store, are not held back. Needs mail to be useful.
       */
      requireVerifiedEmail: boolean().default(false),
      /** Minutes a verification link works (it works once). */
      verificationLinkMinutes: integer().min(10).max(10_080).default(1440),
      /** Verification links one account may be sent per hour (at registration and by resending). */
      verificationMailsPerHour: integer().min(1).max(100).default(5),
    })
    .default({ requireVerifiedEmail: false, verificationLinkMinutes: 1440, verificationMailsPerHour: 5 }),
  /** Second factors (README, "Two-step verification"). */
  mfa: z
    .strictObject({
      /** Every sign-in, to every client, needs a second factor; a user without one enrols one during the sign-in. */
      required: boolean().default(false),
      /** The name authenticators show for Ferry's passkeys (WebAuthn's relying-party name); their id is the issuer's host name. */
      passkeyRpName: z.string().min(1).max(64).default('Ferry'),
    })
    .default({ required: false, passkeyRpName: 'Ferry' }),
  /** Seconds between checks for signing keys rotated by another instance. */
  keyRefreshSeconds: integer().min(1).max(3600).default(30),
  /** Serve Prometheus metrics at /metrics; with `metricsToken` set, a bearer token is required. */
  metrics: boolean().default(true),
  metricsToken: z.string().min(16).optional(),
  /**
   * Isolates kept for running scripts. Each runs one script at a time, and scripts mostly wait for
   * their database, so this bounds how many sign-ins reach the legacy side at once (per instance).
   * An isolate in steady use holds 15–20 MB, so the default follows the cores: 2 per core, at
   * least 4 (on 2 cores the bench's first logins ran as fast with 4 as with 16, 50 MB lighter).
   */
  sandboxPoolSize: integer().min(1).max(256).optional(),
  /**
   * Child processes that run the scripts (their isolates, bridged drivers and pooled legacy
   * connections), so that a script which takes an isolate or a process down costs a replacement
   * process, not the server. `sandboxPoolSize` is shared out among them. 0 runs scripts in the
   * server process itself (then a catastrophic isolate error disables scripts until a restart).
   * Default 2: one per core of a 2-core machine, and one left when the other is being replaced.
   */
  sandboxProcesses: integer().min(0).max(64).default(2),
  /** A sandbox process whose resident memory passes this many MiB is replaced (its scripts in flight end as `unavailable`). */
  sandboxProcessMaxRssMb: integer().min(128).max(65_536).default(1024),
  /** The V8 heap of each sandbox process's own Node isolate (`--max-old-space-size`; scripts' isolates have their own `memoryMb`). */
  sandboxProcessHeapMb: integer().min(64).max(16_384).default(256),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & { issuer: string; demo: boolean };
