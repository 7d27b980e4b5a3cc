'use strict'
// One worker process of the real fleet: a pg.Pool for its requests, Poisson
// (or evenly spaced) arrivals, and the background job when this worker runs
// it. Forked by harness.js, which sends the run's settings and gets back
// every outcome this worker saw. Times are in milliseconds on the shared
// wall clock (Date.now() at the start, then performance.now() offsets).
const { Pool, Client } = require('pg')
const { sampler, sleep } = require('./lib')

/// A pg Client that times its connection setup (what the pool pays in
/// newClient) and counts the refusals.
function timedClient(setups) {
  return class TimedClient extends Client {
    connect(callback) {
      const t0 = performance.now()
      return super.connect((err) => {
        if (!err) setups.push(performance.now() - t0)
        if (callback) callback(err)
      })
    }
  }
}

function poolOptions(server, pool, name, setups) {
  return {
    host: server.host,
    port: server.port,
    user: server.app_user,
    database: server.database,
    max: pool.max,
    idleTimeoutMillis: pool.idle_timeout_ms,
    connectionTimeoutMillis: pool.acquire_timeout_ms,
    application_name: name,
    Client: timedClient(setups),
  }
}

/// The error's kind: "refused" (SQLSTATE 53300), "queue_timeout",
/// "connect_timeout" or "other".
function kindOf(err) {
  if (err && err.code === '53300') return 'refused'
  const m = String(err && err.message)
  if (m.includes('timeout exceeded when trying to connect')) return 'queue_timeout'
  if (m.includes('Connection terminated due to connection timeout')) return 'connect_timeout'
  return 'other'
}

function main(cfg) {
  const { run, server, requests, job } = cfg
  const me = cfg.worker
  const startWall = run.start_wall_ms
  // Offset of performance.now() against the shared wall-clock start.
  const base = performance.now() - (Date.now() - startWall)
  const now = () => performance.now() - base // ms since the run's start
  const endMs = run.duration_s * 1000
  const warmupMs = run.warmup_s * 1000
  const binMs = run.sample_interval_s * 1000
  const bins = Math.ceil(endMs / binMs)
  const counts = (t) => t >= warmupMs && t < endMs

  const out = {
    worker: me,
    arrived: 0,
    arrived_total: 0,
    ok: 0,
    errors: 0,
    refused: 0,
    queue_timeouts: 0,
    connect_timeouts: 0,
    app_errors: 0,
    other_errors: 0,
    latency_ms: [],
    arrival_lag_ms: [],
    held_ms: [],
    setup_ms: [],
    acquires: 0,
    acquire_wait_sum_ms: 0,
    found_full: 0,
    acquire_timed_out: 0,
    acquire_refused: 0,
    idle_acquire_wait_ms: [],
    runs_started: 0,
    runs_completed: 0,
    runs_failed: 0,
    runs_skipped: 0,
    runs_starved_refused: 0,
    runs_starved_timeout: 0,
    leaked: 0,
    error_texts: {},
    bin_answered: new Array(bins).fill(0),
    bin_errors: new Array(bins).fill(0),
  }
  const text = (err) => {
    const m = `${err && err.code ? err.code + ' ' : ''}${err && err.message}`
    out.error_texts[m] = (out.error_texts[m] || 0) + 1
  }

  const setups = []
  const pool = new Pool(poolOptions(server, cfg.pool, 'pooldrill-request', setups))
  pool.on('error', () => {})
  const runsJob = job && (job.placement === 'every_worker' || me === 0)
  let jobPool = null
  if (runsJob) {
    if (job.pool_mode === 'shared') jobPool = pool
    else {
      jobPool = new Pool(poolOptions(server, job.pool, 'pooldrill-job', setups))
      jobPool.on('error', () => {})
    }
  }

  /// pool.connect() with its wait recorded as pooldrill's acquire figures do.
  async function acquire(p, started) {
    const idle = p.idleCount > 0
    const full = p.idleCount === 0 && p.totalCount >= p.options.max
    const t0 = now()
    try {
      const client = await p.connect()
      const wait = now() - t0
      if (counts(started)) {
        out.acquires += 1
        out.acquire_wait_sum_ms += wait
        out.found_full += full ? 1 : 0
        if (idle) out.idle_acquire_wait_ms.push(wait)
      }
      return client
    } catch (err) {
      if (counts(started)) {
        out.acquires += 1
        out.acquire_wait_sum_ms += now() - t0
        out.found_full += full ? 1 : 0
        if (kindOf(err) === 'refused') out.acquire_refused += 1
        else out.acquire_timed_out += 1
      }
      throw err
    }
  }

  const holdMs = sampler(requests.hold)
  const appMs = sampler(requests.app_time)
  // A request's latency runs from its handler's start, as pooldrill's
  // does: how late the event loop started it is kept apart (arrival_lag),
  // since pooldrill does not model the node process's CPU.
  async function request(arrival) {
    const mine = counts(arrival)
    const begun = now()
    if (mine) out.arrival_lag_ms.push(begun - arrival)
    let kind = null
    try {
      const app = appMs()
      if (app > 0) await sleep(app)
      for (let k = 0; k < requests.checkouts; k++) {
        const client = await acquire(pool, arrival)
        const t0 = now()
        let failed = false
        try {
          await client.query('SELECT pg_sleep($1)', [holdMs() / 1000])
          if (mine) out.held_ms.push(now() - t0)
          failed = k === requests.checkouts - 1 && Math.random() < requests.error_probability
        } finally {
          client.release(failed && requests.error_destroys_client)
        }
        if (failed) {
          kind = 'app'
          break
        }
      }
    } catch (err) {
      kind = kindOf(err)
      if (mine) text(err)
    }
    const t = now()
    if (t >= endMs) return // still in flight at the end: not answered
    const bin = Math.min(bins - 1, Math.floor(t / binMs))
    out.bin_answered[bin] += 1
    if (kind) out.bin_errors[bin] += 1
    if (!mine) return
    out.latency_ms.push(t - begun)
    if (!kind) out.ok += 1
    else {
      out.errors += 1
      if (kind === 'app') out.app_errors += 1
      else if (kind === 'refused') out.refused += 1
      else if (kind === 'queue_timeout') out.queue_timeouts += 1
      else if (kind === 'connect_timeout') out.connect_timeouts += 1
      else out.other_errors += 1
    }
  }

  // Arrivals: each worker gets rate / workers; a late timer fires every
  // arrival that is due, each keeping its scheduled time.
  const rate = cfg.traffic.rate_per_s / cfg.fleet.workers / 1000 // per ms
  const gap = cfg.traffic.arrivals === 'poisson' ? () => -Math.log(1 - Math.random()) / rate : () => 1 / rate
  let next = gap()
  function arrivals() {
    const t = now()
    while (next <= t && next < endMs) {
      out.arrived_total += 1
      if (counts(next)) out.arrived += 1
      request(next)
      next += gap()
    }
    if (next < endMs) setTimeout(arrivals, Math.max(0, next - now()))
  }

  // The job: a run every period, holding fan_out clients.
  let running = 0
  const jobHoldMs = job ? sampler(job.hold) : null
  async function jobRun() {
    const started = now()
    if (started >= endMs) return
    const mine = counts(started)
    if (!job.overlap && running > 0) {
      if (mine) out.runs_skipped += 1
      return
    }
    running += 1
    if (mine) out.runs_started += 1
    const held = []
    let failed = false
    try {
      for (let k = 0; k < job.fan_out; k++) {
        try {
          held.push(await acquire(jobPool, started))
        } catch (err) {
          if (mine) {
            text(err)
            if (kindOf(err) === 'refused') out.runs_starved_refused += 1
            else out.runs_starved_timeout += 1
          }
          throw err
        }
      }
      await sleep(jobHoldMs())
      if (Math.random() < job.error_probability) throw new Error('the job failed')
    } catch (err) {
      failed = true
    }
    if (failed && job.release === 'leaky') {
      if (mine) out.leaked += held.length
    } else {
      for (const c of held) c.release()
    }
    if (mine) {
      if (failed) out.runs_failed += 1
      else out.runs_completed += 1
    }
    running -= 1
  }

  const startIn = Math.max(0, -now())
  setTimeout(() => {
    arrivals()
    if (runsJob) {
      // As in pooldrill, the first run comes at a random phase of the
      // period (the workers did not all start at the same instant), then
      // setInterval's.
      setTimeout(() => {
        jobRun()
        const timer = setInterval(() => {
          if (now() >= endMs) clearInterval(timer)
          else jobRun()
        }, job.period_s * 1000)
      }, Math.random() * job.period_s * 1000)
    }
  }, startIn)
  // At the end: give the answers in flight no more time, report.
  setTimeout(() => {
    out.setup_ms = setups
    process.send(out, () => process.exit(0))
  }, startIn + endMs + 50)
}

process.on('message', (cfg) => main(cfg))
// The harness is gone (killed or ended): so is this worker.
process.on('disconnect', () => process.exit(0))
