// @ts-check
// timers: each one is a host sleep; all are cancelled when the execution ends. `sleeping` counts
// the host sleeps not yet settled here, and it (not the number of live timers) is what the limit
// bounds: a cleared timer's sleep is cancelled on the host, but its slot only comes back once that
// settles here, so a loop that never yields cannot pile up sleeps on the host.
let nextTimer = 1;
let sleeping = 0;
const timers = new $Map();
const timerGet = $Map.prototype.get;
const timerSet = $Map.prototype.set;
const timerDelete = $Map.prototype.delete;
/**
 * @param {unknown} fn
 * @param {unknown} ms
 * @param {unknown[]} args
 * @param {boolean} repeat
 */
function startTimer(fn, ms, args, repeat) {
  if (typeof fn !== 'function') throw new $TypeError('The "callback" argument must be of type function');
  if (sleeping >= limits.maxTimers) throw new $Error(`Too many timers (the limit is ${limits.maxTimers}).`);
  const id = nextTimer;
  nextTimer += 1;
  const delay = $Math.max(0, $Math.min($Number(ms) || 0, 2 ** 31 - 1));
  $apply(timerSet, timers, [id, true]);
  const tick = () => {
    sleeping += 1;
    $apply($then, call('timer.sleep', [id, delay], false), [
      () => {
        sleeping -= 1;
        if (!$apply(timerGet, timers, [id])) return;
        if (!repeat) $apply(timerDelete, timers, [id]);
        try {
          $apply(fn, undefined, args);
        } catch (error) {
          uncaught(error);
        }
        if (repeat && $apply(timerGet, timers, [id])) tick();
      },
      () => {
        sleeping -= 1;
        $apply(timerDelete, timers, [id]);
      },
    ]);
  };
  tick();
  return new Timeout(id);
}
class Timeout {
  /** @type {number} Declared for the checker; the constructor makes it read-only and non-enumerable, as before it was declared. */
  id;
  /** @param {number} id */
  constructor(id) {
    $defineProperty(this, 'id', /** @type {PropertyDescriptor} */ ({ __proto__: null, value: id, writable: false, enumerable: false, configurable: false }));
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return true;
  }
  [$Symbol.toPrimitive]() {
    return this.id;
  }
}
/** @param {unknown} timer */
function clearTimer(timer) {
  const id = timer instanceof Timeout ? timer.id : $Number(timer);
  if ($apply(timerDelete, timers, [id])) notify('timer.cancel', [id]);
}
