'use strict'
// One run of the real fleet against a PostgreSQL that `pooldrill realpg`
// started: `node harness.js RUN.json OUT.json`. RUN.json holds the scenario
// as pooldrill resolved it (see src/commands/realpg/subset.rs). The harness
// opens the monitor session (a superuser sampling pg_stat_activity every
// sample interval) and the scenario's other clients, forks one node process
// per worker, and writes what the run measured to OUT.json.
const fs = require('fs')
const path = require('path')
const { fork } = require('child_process')
const { Client } = require('pg')
const { sleep } = require('./lib')

const workers = []
function killWorkers() {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL')
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killWorkers()
    process.exit(128 + { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[sig])
  })
}

/// The q-quantile of sorted `xs` (nearest rank), or null when empty.
function quantile(xs, q) {
  if (!xs.length) return null
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]
}

async function appBackends(monitor, user) {
  const { rows } = await monitor.query(
    "SELECT coalesce(application_name, '') AS name, count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 GROUP BY 1",
    [user]
  )
  let total = 0
  let job = 0
  for (const r of rows) {
    total += r.n
    if (r.name === 'pooldrill-job') job += r.n
  }
  return { total, job }
}

async function main() {
  const [cfgPath, outPath] = process.argv.slice(2)
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'))
  const { server, run } = cfg
  const su = { host: server.socket_dir, port: server.port, user: server.superuser, database: 'postgres' }
  // A server that goes away ends the run with its error, not a crash.
  const lost = (err) => {
    killWorkers()
    process.stderr.write(`harness: the monitor lost PostgreSQL: ${err.message}\n`)
    process.exit(1)
  }
  const monitor = new Client(su)
  monitor.on('error', lost)
  await monitor.connect()
  const others = []
  for (let k = 0; k < cfg.database.other_clients; k++) {
    const c = new Client(su)
    c.on('error', lost)
    await c.connect()
    others.push(c)
  }
  // The previous run's backends leave within milliseconds of its workers.
  for (let k = 0; k < 100 && (await appBackends(monitor, server.app_user)).total > 0; k++) await sleep(100)

  const startWall = Date.now() + 1500 // time for the workers to load
  const results = []
  const done = []
  for (let w = 0; w < cfg.fleet.workers; w++) {
    const child = fork(path.join(__dirname, 'worker.js'), [], { stdio: 'inherit' })
    workers.push(child)
    done.push(
      new Promise((resolve) => {
        child.on('message', (m) => results.push(m))
        // 'close', not 'exit': after the IPC channel has delivered the result.
        child.on('close', resolve)
      })
    )
    child.send({ ...cfg, worker: w, run: { ...run, start_wall_ms: startWall } })
  }

  // The monitor: app backends (and the job pools' share) every interval.
  const binMs = run.sample_interval_s * 1000
  const endMs = run.duration_s * 1000
  const samples = []
  await sleep(Math.max(0, startWall - Date.now()))
  for (let k = 1; k * binMs <= endMs; k++) {
    await sleep(Math.max(0, startWall + k * binMs - Date.now()))
    samples.push({ t: (Date.now() - startWall) / 1000, ...(await appBackends(monitor, server.app_user)) })
  }
  const deadline = sleep(30000).then(() => 'late')
  if ((await Promise.race([Promise.all(done), deadline])) === 'late') {
    killWorkers()
    throw new Error('a worker did not report within 30 s of the end of the run')
  }
  if (results.length !== cfg.fleet.workers) throw new Error(`${cfg.fleet.workers - results.length} workers exited without reporting`)
  for (const c of others) await c.end()
  await monitor.end()
  fs.writeFileSync(outPath, JSON.stringify(combine(cfg, results, samples)))
}

/// One run's figures, named as pooldrill's summary.json names them.
function combine(cfg, results, samples) {
  const sum = (key) => results.reduce((a, r) => a + r[key], 0)
  const all = (key) => results.flatMap((r) => r[key]).sort((a, b) => a - b)
  const { run } = cfg
  const counted = samples.filter((s) => s.t > run.warmup_s)
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null)
  const latency = all('latency_ms')
  const answered = sum('ok') + sum('errors')
  const acquires = sum('acquires')
  const idleWaits = all('idle_acquire_wait_ms')
  const bins = results[0].bin_answered.length
  const binSum = (key, i) => results.reduce((a, r) => a + r[key][i], 0)
  const errorTexts = {}
  for (const r of results) for (const [t, n] of Object.entries(r.error_texts)) errorTexts[t] = (errorTexts[t] || 0) + n
  const s = (ms) => (ms === null ? null : ms / 1000)
  const counting = run.duration_s - run.warmup_s
  return {
    achieved_rate_per_s: sum('arrived') / counting,
    requests: {
      arrived: sum('arrived'),
      answered,
      errors: sum('errors'),
      refused: sum('refused'),
      queue_timeouts: sum('queue_timeouts'),
      connect_timeouts: sum('connect_timeouts'),
      app_errors: sum('app_errors'),
      other_errors: sum('other_errors'),
      error_rate: answered ? sum('errors') / answered : 0,
      p50_latency_s: s(quantile(latency, 0.5)),
      p95_latency_s: s(quantile(latency, 0.95)),
      p99_latency_s: s(quantile(latency, 0.99)),
      mean_latency_s: s(mean(latency)),
    },
    acquire: {
      count: acquires,
      found_full: sum('found_full'),
      timed_out: sum('acquire_timed_out'),
      refused: sum('acquire_refused'),
      mean_wait_s: acquires ? sum('acquire_wait_sum_ms') / acquires / 1000 : null,
      idle_p50_wait_s: s(quantile(idleWaits, 0.5)),
      idle_mean_wait_s: s(mean(idleWaits)),
    },
    connections: {
      mean_open: mean(counted.map((x) => x.total)),
      peak_open: Math.max(0, ...samples.map((x) => x.total)),
      mean_job_open: mean(counted.map((x) => x.job)),
      leaked: sum('leaked'),
    },
    job: {
      runs_started: sum('runs_started'),
      runs_completed: sum('runs_completed'),
      runs_failed: sum('runs_failed'),
      runs_skipped: sum('runs_skipped'),
      runs_starved: sum('runs_starved_refused') + sum('runs_starved_timeout'),
      runs_starved_refused: sum('runs_starved_refused'),
      runs_starved_timeout: sum('runs_starved_timeout'),
    },
    event_loop: {
      arrival_lag_p50_s: s(quantile(all('arrival_lag_ms'), 0.5)),
      arrival_lag_p99_s: s(quantile(all('arrival_lag_ms'), 0.99)),
    },
    error_texts: errorTexts,
    held_s: all('held_ms').map((x) => x / 1000),
    setup_s: all('setup_ms').map((x) => x / 1000),
    series: {
      time_s: samples.map((x) => x.t),
      open: samples.map((x) => x.total),
      error_rate: Array.from({ length: bins }, (_, i) => {
        const n = binSum('bin_answered', i)
        return n ? binSum('bin_errors', i) / n : null
      }),
    },
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    killWorkers()
    process.stderr.write(`harness: ${err.stack || err}\n`)
    process.exit(1)
  }
)
