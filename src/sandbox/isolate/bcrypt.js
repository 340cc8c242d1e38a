// @ts-check
// require('bcrypt'): hash, compare and genSalt (promise, callback and Sync forms) on the host.
/** @param {Ferry} ferry the runtime's helpers (runtime/require.js) */
function bcryptModule(ferry) {
  const { call, callBlocking, withCallback } = ferry;
  const rounds = (value) => (value === undefined ? 10 : value);
  return {
    genSalt(costOrCallback, minorOrCallback, callback) {
      const cb = [costOrCallback, minorOrCallback, callback].find((item) => typeof item === 'function');
      const cost = typeof costOrCallback === 'number' ? costOrCallback : undefined;
      const minor = typeof minorOrCallback === 'string' ? minorOrCallback : undefined;
      return withCallback(call('bcrypt.genSalt', [rounds(cost), minor]), cb);
    },
    hash(data, saltOrRounds, callback) {
      return withCallback(call('bcrypt.hash', [data, saltOrRounds]), callback);
    },
    compare(data, encrypted, callback) {
      return withCallback(call('bcrypt.compare', [data, encrypted]), callback);
    },
    genSaltSync(cost, minor) {
      return callBlocking('bcrypt.genSalt', [rounds(cost), minor]);
    },
    hashSync(data, saltOrRounds) {
      return callBlocking('bcrypt.hash', [data, saltOrRounds]);
    },
    compareSync(data, encrypted) {
      return callBlocking('bcrypt.compare', [data, encrypted]);
    },
    getRounds(encrypted) {
      const match = /^\$2[abxy]?\$(\d{2})\$/.exec(String(encrypted));
      if (!match) throw new Error('Invalid hash provided');
      return Number(match[1]);
    },
  };
}
