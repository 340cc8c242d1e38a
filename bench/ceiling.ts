/**
 * A hash ceiling measured in its own process, started by bench/run.ts with the environment and
 * node flags of `npm start` (its MALLOC_* variables change how glibc serves argon2's 19 MiB
 * blocks). Reads { concurrency, durationMs, warmupMs } from argv, prints the Measurement as JSON:
 * argon2id verifies with Ferry's parameters.
 */
import argon2 from 'argon2';
import { ARGON2_DEFAULTS } from '../src/accounts/passwords.ts';
import { measure } from './lib/measure.ts';

const options = JSON.parse(process.argv[2]!) as { concurrency: number; durationMs: number; warmupMs: number };
const password = 'bench-password-1';
const hash = await argon2.hash(password, { type: argon2.argon2id as 2, ...ARGON2_DEFAULTS });
process.stdout.write(`${JSON.stringify(await measure(() => argon2.verify(hash, password), options))}\n`);
