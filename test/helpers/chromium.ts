import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

const EXECUTABLE = process.env.FERRY_TEST_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium driven by playwright-core; skips locally when it is missing, fails under CI. */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(EXECUTABLE)) {
    const message = `Chromium is not installed at ${EXECUTABLE} (apt-get install chromium)`;
    if (process.env.CI === 'true') throw new Error(message);
    t.skip(message);
    return undefined;
  }
  return chromium.launch({ executablePath: EXECUTABLE, args: FLAGS });
}
