/**
 * The names of the host operations the isolate may call, grouped by the bridge file that answers
 * them: the one definition of that contract. The host's table is typed against it (each group's
 * ops in bridge/*.ts return `OpGroup<'group'>`), and the isolate's JavaScript is checked against it
 * (isolate/isolate.d.ts types the `op` of call/callSync/notify as `OpName`), so a name missing or
 * misspelled on either side fails `npm run typecheck`. A new group is one entry here and one
 * spread in bridge/index.ts.
 */
export const OP_NAMES = {
  runtime: ['console', 'uncaught', 'boundary.refuse', 'timer.sleep', 'timer.cancel', 'url.parse', 'url.set'],
  pg: ['pg.connect', 'pg.query', 'pg.end', 'pg.pool', 'pg.poolQuery', 'pg.poolConnect', 'pg.release', 'pg.poolEnd'],
  mysql: [
    'mysql.connect',
    'mysql.query',
    'mysql.execute',
    'mysql.end',
    'mysql.release',
    'mysql.pool',
    'mysql.poolQuery',
    'mysql.poolExecute',
    'mysql.poolConnection',
    'mysql.poolEnd',
  ],
  mongodb: ['mongo.connect', 'mongo.op', 'mongo.close'],
  mssql: ['mssql.connect', 'mssql.query', 'mssql.execute', 'mssql.close'],
  http: ['http.request'],
  bcrypt: ['bcrypt.genSalt', 'bcrypt.hash', 'bcrypt.compare'],
  crypto: ['crypto.digest', 'crypto.pbkdf2', 'crypto.scrypt', 'crypto.randomBytes', 'crypto.randomUUID', 'crypto.timingSafeEqual'],
} as const;

export type OpGroupName = keyof typeof OP_NAMES;

/** One group's operation names, or (without an argument) every operation's. */
export type OpName<G extends OpGroupName = OpGroupName> = (typeof OP_NAMES)[G][number];
