/**
 * Sizes of the fault rows. Full: 1,000 clients; quick: 100, to stay within the 2-minute budget.
 * Rooms: one per 50 clients, so the publisher's 200 msg/s fan out to 10,000 deliveries/s at 1,000 clients
 * (a chat-like load two cores can carry next to the cluster) rather than 200,000.
 * windowMs: how long after the fault the publisher goes on and resumes are waited for (Lifeline);
 * baselineWindowMs: the same for the baseline, at least partysocket's 3 s first retry delay plus a margin.
 */
/**
 * @param {boolean} quick
 * @returns {Omit<import('./fault-scenario.js').ScenarioOptions, 'fault' | 'row'>}
 */
export function faultSizes(quick) {
  const clients = quick ? 100 : 1000
  return {
    clients,
    rooms: Math.max(2, Math.round(clients / 50)),
    rate: 200,
    warmMs: quick ? 800 : 3_000,
    windowMs: quick ? 2_500 : 6_000,
    baselineWindowMs: quick ? 4_000 : 6_000,
    settleMs: quick ? 5_000 : 10_000,
  }
}
