import { runSteps, type Step } from '../attempt.ts';

/** The mode's own steps (modes/*.ts), then whatever follows in the list (a second factor would). */
export const runMode: Step = async (attempt, next) => {
  await runSteps(attempt.mode!.steps, attempt);
  await next();
};
