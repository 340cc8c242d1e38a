import bcrypt from 'bcrypt';
import type { Execution } from '../execution.ts';
import { integer, optionalString, string } from './args.ts';
import { ScriptFacingError } from './errors.ts';
import { op, type OpGroup } from './types.ts';

function checkCost(execution: Execution, cost: number): number {
  if (cost < 4 || cost > execution.limits.maxBcryptCost) {
    throw new ScriptFacingError(`bcrypt cost must be between 4 and ${execution.limits.maxBcryptCost}.`, 'ERR_FERRY_BCRYPT_COST');
  }
  return cost;
}

function costOfHash(hash: string): number | undefined {
  const match = /^\$2[abxy]?\$(\d{2})\$/.exec(hash);
  return match ? Number(match[1]) : undefined;
}

function data(value: unknown): string | Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value);
  return string(value, 'data');
}

/** Host operations behind the isolate's `bcrypt`: node.bcrypt.js on libuv's thread pool, cost capped. */
export function bcryptOps(): OpGroup<'bcrypt'> {
  return {
    'bcrypt.genSalt': op((execution, [rounds, minor]) => {
      const variant = optionalString(minor, 'minor') ?? 'b';
      if (variant !== 'a' && variant !== 'b') throw new ScriptFacingError('minor must be "a" or "b"', 'ERR_INVALID_ARG_VALUE');
      return bcrypt.genSalt(checkCost(execution, integer(rounds, 'rounds')), variant);
    }),
    'bcrypt.hash': op((execution, [value, saltOrRounds]) => {
      if (typeof saltOrRounds === 'number') return bcrypt.hash(data(value), checkCost(execution, integer(saltOrRounds, 'rounds')));
      const salt = string(saltOrRounds, 'salt');
      const cost = costOfHash(salt);
      if (cost === undefined)
        throw new ScriptFacingError('Invalid salt. Salt must be in the form of: $Vers$log2(NumRounds)$saltvalue', 'ERR_INVALID_ARG_VALUE');
      checkCost(execution, cost);
      return bcrypt.hash(data(value), salt);
    }),
    'bcrypt.compare': op(async (execution, [value, hash]) => {
      if (typeof hash !== 'string') throw new ScriptFacingError('data and hash arguments required', 'ERR_INVALID_ARG_TYPE');
      const cost = costOfHash(hash);
      if (cost === undefined) return false;
      checkCost(execution, cost);
      const match = await bcrypt.compare(data(value), hash);
      // The login's own password, accepted as it was typed: the caller may keep this hash (see RunRequest.watchPassword).
      if (match && execution.watchedPassword !== undefined && value === execution.watchedPassword) execution.verifiedBcryptHash ??= hash;
      return match;
    }),
  };
}
