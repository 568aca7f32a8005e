import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';
import { Link } from './link.js';

/** A link into a mock receiver that logs (request id, arrival cycle). */
function setup(latency: number, credits: number) {
  const q = new EventQueue();
  const arrivals: [number, number][] = [];
  const rx = q.register('rx', (id) => arrivals.push([id, q.now]));
  const link = new Link(q, rx, latency, credits, 'test.link');
  return { q, link, arrivals };
}

describe('Link', () => {
  it('delivers exactly `latency` cycles after each send', () => {
    const { q, link, arrivals } = setup(7, 8);
    expect(link.trySend(1)).toBe(true);                      // sent at cycle 0
    const later = q.register('later', () => link.trySend(2)); // sent at cycle 13
    q.schedule(later, 13);
    q.runUntil(Infinity);
    expect(arrivals).toEqual([[1, 7], [2, 20]]);
    expect(link.sent).toBe(2);
  });

  it('a zero-latency link delivers in the same cycle, after the sending handler returns', () => {
    const q = new EventQueue();
    const order: string[] = [];
    const rx = q.register('rx', (id) => order.push(`arrive ${id} @${q.now}`));
    const link = new Link(q, rx, 0, 1);
    const send = q.register('send', () => { link.trySend(5); order.push(`sent @${q.now}`); });
    q.schedule(send, 3);
    q.runUntil(Infinity);
    expect(order).toEqual(['sent @3', 'arrive 5 @3']);
  });

  it('with N credits the (N+1)th send is refused and counted', () => {
    const N = 4;
    const { q, link, arrivals } = setup(2, N);
    for (let i = 0; i < N; i++) expect(link.trySend(i)).toBe(true);
    expect(link.available).toBe(0);
    expect(link.refusals).toBe(0);
    expect(link.trySend(N)).toBe(false);
    expect(link.refusals).toBe(1);
    expect(link.trySend(N)).toBe(false);
    expect(link.refusals).toBe(2);
    expect(link.sent).toBe(N);
    q.runUntil(Infinity);
    expect(arrivals.map(([id]) => id)).toEqual([0, 1, 2, 3]); // the refused request never travels
  });

  it('credits do not come back by themselves on delivery', () => {
    const { q, link } = setup(1, 1);
    expect(link.trySend(0)).toBe(true);
    q.runUntil(Infinity);
    expect(link.trySend(1)).toBe(false); // the receiver has not released its buffer
    link.release();
    expect(link.trySend(1)).toBe(true);
  });

  it('release() calls onCredit exactly once per refusal episode', () => {
    const { link } = setup(1, 1);
    let calls = 0;
    link.onCredit = () => { calls++; };
    link.trySend(0);
    link.release();                       // no refusal happened: no call
    expect(calls).toBe(0);

    link.trySend(1);
    expect(link.trySend(2)).toBe(false);  // episode 1: three refusals
    expect(link.trySend(2)).toBe(false);
    expect(link.trySend(2)).toBe(false);
    link.release();
    expect(calls).toBe(1);
    link.release();                       // a second credit in the same episode: no second call
    expect(calls).toBe(1);

    expect(link.trySend(2)).toBe(true);
    expect(link.trySend(3)).toBe(true);
    expect(link.trySend(4)).toBe(false);  // episode 2
    link.release();
    expect(calls).toBe(2);
    expect(link.refusals).toBe(4);
  });

  it('a sender that retries from onCredit gets its requests through, in order', () => {
    const q = new EventQueue();
    const arrivals: [number, number][] = [];
    // The receiver has one buffer and frees it 5 cycles after each arrival.
    const free = q.register('free', () => flow.release());
    const rx = q.register('rx', (id) => { arrivals.push([id, q.now]); q.schedule(free, 5); });
    const flow: Link = new Link(q, rx, 3, 1);
    const backlog = [10, 11, 12];
    const pump = (): void => { while (backlog.length > 0 && flow.trySend(backlog[0]!)) backlog.shift(); };
    flow.onCredit = pump;
    pump();
    q.runUntil(Infinity);
    // 10 sent at 0, arrives 3, freed 8 -> 11 sent at 8, arrives 11, freed 16 -> 12 arrives 19.
    expect(arrivals).toEqual([[10, 3], [11, 11], [12, 19]]);
    expect(backlog).toEqual([]);
    expect(flow.refusals).toBe(2); // one refusal per wait: pump stops at the first false
    expect(flow.available).toBe(1);
  });

  it('trySendAfter adds the extra delay to the latency and spends a credit', () => {
    const { q, link, arrivals } = setup(4, 2);
    expect(link.trySendAfter(1, 6)).toBe(true);
    expect(link.trySendAfter(2, 0)).toBe(true);
    expect(link.available).toBe(0);
    expect(link.trySendAfter(3, 1)).toBe(false);
    expect(link.refusals).toBe(1);
    q.runUntil(Infinity);
    expect(arrivals).toEqual([[2, 4], [1, 10]]);
  });

  it('trySendAfter refusal starts an episode that release() ends with one onCredit', () => {
    const { link } = setup(1, 0);
    let calls = 0;
    link.onCredit = () => { calls++; };
    expect(link.trySendAfter(1, 2)).toBe(false);
    link.release();
    link.release();
    expect(calls).toBe(1);
    expect(link.available).toBe(2);
  });
  it('direct mode hands the request over at send time with its arrival cycle, spending no event', () => {
    const q = new EventQueue();
    const handed: [number, number, number][] = []; // id, arrival cycle, cycle of the hand-over
    const rx = q.register('rx', () => { throw new Error('direct mode must not schedule delivery'); });
    const link = new Link(q, rx, 6, 2, 'direct.link', (id, arriveAt) => handed.push([id, arriveAt, q.now]));
    const send = q.register('send', () => {
      expect(link.trySend(1)).toBe(true);
      expect(link.trySendAfter(2, 3)).toBe(true);
      expect(link.trySend(3)).toBe(false); // credits still apply
    });
    q.schedule(send, 10);
    q.runUntil(Infinity);
    expect(handed).toEqual([[1, 16, 10], [2, 19, 10]]);
    expect(q.dispatched).toBe(1);
    expect(link.refusals).toBe(1);
  });
});
