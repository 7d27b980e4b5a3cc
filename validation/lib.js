'use strict'
// Small helpers shared by the harness and its workers.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/// A standard normal draw (Box–Muller).
function normal() {
  const u = 1 - Math.random()
  const v = Math.random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/// A function drawing from `dist` (seconds, as pooldrill resolved it) in ms.
function sampler(dist) {
  switch (dist.kind) {
    case 'deterministic':
      return () => dist.value * 1000
    case 'exponential':
      return () => -Math.log(1 - Math.random()) * dist.mean * 1000
    case 'uniform':
      return () => (dist.lo + Math.random() * (dist.hi - dist.lo)) * 1000
    case 'lognormal':
      return () => Math.exp(dist.mu + dist.sigma * normal()) * 1000
    default:
      throw new Error(`unknown distribution ${JSON.stringify(dist)}`)
  }
}

module.exports = { sleep, sampler }
