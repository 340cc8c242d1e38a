import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFailureFloor } from '../../src/connection/timing.ts';

describe('the failure floor', () => {
  it('learns each path on its own and holds a failure to the slowest path it could have taken', () => {
    const floor = createFailureFloor({ initialMs: 250, minMs: 50, maxMs: 3000 });
    assert.equal(floor.floor(['local']), 250, 'the initial floor until enough sign-ins were seen');
    for (let i = 1; i <= 90; i++) floor.observe('local', 60 + i); // fast argon2 checks, most sign-ins
    for (let i = 1; i <= 10; i++) floor.observe('legacy', 300 + i * 10); // bcrypt through the script
    assert.equal(floor.floor(['local']), 142, "the local paths' 90th percentile");
    assert.equal(floor.floor(['legacy']), 400, "the legacy paths' 90th percentile");
    assert.equal(floor.floor(['local', 'legacy']), 400, 'a failure that may have gone either way waits for the slower');
  });

  it('keeps within its bounds and forgets old samples', () => {
    const floor = createFailureFloor({ initialMs: 250, minMs: 50, maxMs: 1000 });
    for (let i = 0; i < 10; i++) floor.observe('local', 1);
    assert.equal(floor.floor(['local']), 50);
    for (let i = 0; i < 100; i++) floor.observe('local', 5000);
    assert.equal(floor.floor(['local']), 1000);
    for (let i = 0; i < 100; i++) floor.observe('local', 300);
    assert.equal(floor.floor(['local']), 300, 'only the last 100 sign-ins count');
  });
});
