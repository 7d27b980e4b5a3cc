//! `pooldrill dashboard FILE`: the incident write-up's "Connection Pool
//! Health" panel drawn from the simulated state, at one moment (`--at 14:28`)
//! or replayed as simulated time passes (`--play --speed 60x`).
//!
//! On a terminal the panel is drawn with ratatui (in colour; `--play` takes
//! the whole screen and keys); on a pipe or with `TERM=dumb` it is printed as
//! plain frames, with no escape codes.

use crate::engine::SimTime;
use crate::guard::{self, GuardArgs, Outputs};
use crate::interrupt;
use crate::metrics::LogEntry;
use crate::model::{RunOptions, Simulation};
use crate::scenario::Scenario;
use crate::scenario::units::{Duration, TimeSpec};
use crate::stdout::{self, out, outln};
use crate::tui::{Panel, Snapshot, SnapshotSink};
use anyhow::{Context, Result, bail};
use clap::Args;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::{DefaultTerminal, Terminal, TerminalOptions, Viewport};
use std::collections::VecDeque;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Instant;

/// Arguments of `dashboard`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// The moment to show: a time of day ("14:28", "14:28:30"; the scenario
    /// needs `meta.start`) or a time from the start ("28m").
    #[arg(long, value_parser = moment, required_unless_present = "play", conflicts_with = "play")]
    pub at: Option<TimeSpec>,
    /// Replay the run, updating the panel as simulated time passes.
    #[arg(long)]
    pub play: bool,
    /// With --play: simulated time per second of playback ("60x": a minute
    /// a second). On a terminal, + and - double and halve it.
    #[arg(long, value_parser = speed, default_value = "60x", requires = "play")]
    pub speed: f64,
    /// With --play: start the playback at this moment (what comes before
    /// passes at once).
    #[arg(long, value_parser = moment, requires = "play")]
    pub from: Option<TimeSpec>,
    /// With --play on a pipe or TERM=dumb: a frame every this much simulated
    /// time, and one at every deploy, rollback and alert transition.
    #[arg(long, default_value = "1m", requires = "play")]
    pub every: Duration,
    /// Width of plain frames (pipes, TERM=dumb), in columns.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u16).range(60..=400))]
    pub width: u16,
    /// The resource guard's limits.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// A `--at` or `--from` value.
fn moment(s: &str) -> Result<TimeSpec, String> {
    s.parse().map_err(|_| {
        format!("expected a time of day like \"14:28\" or a time from the start like \"28m\", found \"{s}\"")
    })
}

/// A `--speed` value: "60x" or "60".
fn speed(s: &str) -> Result<f64, String> {
    s.strip_suffix('x')
        .unwrap_or(s)
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| format!("expected a speed above zero like \"60x\", found \"{s}\""))
}

/// Show the panel. `--play` ends with 0 (the end, `q`, a closed pipe) or 130
/// (Ctrl-C, or a signal that asks to stop).
pub fn dashboard(args: &DashboardArgs) -> Result<i32> {
    let scenario = crate::scenario_file::load(&args.file)?;
    super::warn(&scenario);
    let styled = io::stdout().is_terminal()
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    let file = args.file.display().to_string();
    match args.at {
        Some(at) => show_at(scenario, at, styled, args, &file),
        None => {
            // The playback may fall behind the simulation, which then
            // keeps every sample's snapshot.
            let rows = Outputs {
                rows: true,
                ..Outputs::default()
            };
            args.guard.check(&file, &scenario, rows, 1)?;
            play(&scenario, args, styled).map_err(|e| guard::name_file(e, &file))
        }
    }
}

/// Simulated time of `spec` in `scenario`, checked to be within the run.
fn resolve(scenario: &Scenario, spec: TimeSpec, flag: &str) -> Result<SimTime> {
    let t = match spec {
        TimeSpec::Offset(d) => d.0,
        TimeSpec::Clock(c) => {
            let Some(start) = scenario.start_clock else {
                bail!(
                    "{flag} {c}: the scenario has no meta.start, give a time from the start instead (\"28m\")"
                );
            };
            c.since(start)
        }
    };
    if t > scenario.duration {
        let wrapped = match (spec, scenario.start_clock) {
            (TimeSpec::Clock(c), Some(start)) if c < start => {
                "; a time of day before the start is on the next day"
            }
            _ => "",
        };
        bail!(
            "{flag} {} is after the end of the run ({}{wrapped})",
            scenario.clock(t),
            scenario.clock(scenario.duration)
        );
    }
    Ok(t)
}

/// Run up to `at` and draw the state at the last sampling instant.
fn show_at(
    mut scenario: Scenario,
    at: TimeSpec,
    styled: bool,
    args: &DashboardArgs,
    file: &str,
) -> Result<i32> {
    let width = args.width;
    let at = resolve(&scenario, at, "--at")?;
    if at < scenario.sample_interval {
        bail!(
            "--at {}: the first sample is at {}",
            scenario.clock(at),
            scenario.clock(scenario.sample_interval)
        );
    }
    scenario.duration = at;
    args.guard.check(file, &scenario, Outputs::default(), 1)?;
    let mut last = None;
    let mut events = Vec::new();
    {
        let mut sink = SnapshotSink::new(&scenario.alerts, |s: Snapshot| {
            events.extend(s.events.iter().cloned());
            last = Some(s);
            Ok(())
        });
        Simulation::new(&scenario, RunOptions::default())
            .run(&mut sink, |_| true)
            .with_context(|| format!("scenario {}", scenario.name))
            .map_err(|e| guard::name_file(e, file))?;
        sink.finish()?;
    }
    let snapshot = last.context("the run produced no sample")?;
    let panel = Panel {
        scenario: &scenario,
        snapshot: &snapshot,
        events: &events,
        status: None,
    };
    if styled {
        let (columns, _) = ratatui::crossterm::terminal::size()?;
        let viewport = Viewport::Inline(panel.height(columns));
        let backend = ratatui::backend::CrosstermBackend::new(io::stdout());
        let mut terminal = Terminal::with_options(backend, TerminalOptions { viewport })?;
        terminal.draw(|f| f.render_widget(&panel, f.area()))?;
        outln!();
    } else {
        out!("{}", panel.plain(width));
    }
    Ok(0)
}

/// Print `text`; a closed pipe (`| head`) is not an error. Returns whether
/// the reader is still there.
fn write_or_closed(text: &str) -> bool {
    out!("{text}");
    stdout::open()
}

/// Replay the run: the simulation runs in a thread and sends a snapshot per
/// sampling instant (then `None`); the playback shows them at `--speed`.
fn play(scenario: &Scenario, args: &DashboardArgs, styled: bool) -> Result<i32> {
    let from = match args.from {
        Some(f) => resolve(scenario, f, "--from")?.as_secs_f64(),
        None => 0.0,
    };
    if args.every.0 == SimTime::ZERO {
        bail!("--every must be above zero");
    }
    interrupt::catch();
    let (tx, rx) = mpsc::channel::<Option<Snapshot>>();
    std::thread::scope(|scope| {
        let simulation = scope.spawn(move || -> Result<()> {
            let closed = || io::Error::other("the dashboard was closed");
            let mut sink =
                SnapshotSink::new(&scenario.alerts, |s| tx.send(Some(s)).map_err(|_| closed()));
            Simulation::new(scenario, RunOptions::default())
                .run(&mut sink, |_| !interrupt::requested())
                .with_context(|| format!("scenario {}", scenario.name))?;
            sink.finish()?;
            tx.send(None).map_err(|_| closed())?;
            Ok(())
        });
        let playback = Playback {
            scenario,
            rx,
            from,
            speed: args.speed,
        };
        let ended = if styled {
            playback.live()
        } else {
            playback.plain(args.every.0.as_secs_f64(), args.width)
        }?;
        let simulated = simulation.join().expect("the simulation thread panicked");
        match ended {
            Ended::Finished => simulated.map(|()| 0),
            Ended::Left => Ok(0),
            Ended::Interrupted => Ok(crate::interrupt::exit_code().unwrap_or(130)),
        }
    })
}

/// How a playback ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// Every snapshot was shown.
    Finished,
    /// The viewer left before the end: `q` or a closed pipe.
    Left,
    /// Ctrl-C, or a signal that asks to stop.
    Interrupted,
}

/// The full-screen terminal while it lives: dropping it (on every way out,
/// errors included) leaves the alternate screen, raw mode and shows the
/// cursor again — and so does a second signal, which exits at once.
struct Screen(DefaultTerminal, interrupt::BeforeExit);

impl Screen {
    fn enter() -> Result<Screen> {
        let terminal = ratatui::try_init().context("cannot use the terminal")?;
        Ok(Screen(terminal, interrupt::before_exit(ratatui::restore)))
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Sleep `wait`, waking early when a stop is requested: whether it was.
fn sleep_unless_interrupted(wait: std::time::Duration) -> bool {
    let until = Instant::now() + wait;
    loop {
        if interrupt::requested() {
            return true;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
    }
}

/// A playback of snapshots as they come from the simulation.
struct Playback<'a> {
    scenario: &'a Scenario,
    rx: Receiver<Option<Snapshot>>,
    /// Simulated seconds where the playback starts.
    from: f64,
    /// Simulated seconds per second.
    speed: f64,
}

impl Playback<'_> {
    /// Plain frames: one every `every` simulated seconds and one at every
    /// listed event, paced at the speed, until the end, a closed pipe or a
    /// stop request.
    fn plain(self, every: f64, width: u16) -> Result<Ended> {
        let started = Instant::now();
        let mut events: Vec<LogEntry> = Vec::new();
        let mut next_frame = self.from;
        let mut unshown: Option<Snapshot> = None;
        let frame = |s: &Snapshot, events: &[LogEntry]| {
            let lag = (s.time_s() - self.from) / self.speed;
            let wait =
                std::time::Duration::from_secs_f64(lag.max(0.0)).saturating_sub(started.elapsed());
            if sleep_unless_interrupted(wait) {
                return Some(Ended::Interrupted);
            }
            let panel = Panel {
                scenario: self.scenario,
                snapshot: s,
                events,
                status: None,
            };
            (!write_or_closed(&format!("{}\n", panel.plain(width)))).then_some(Ended::Left)
        };
        for message in &self.rx {
            if interrupt::requested() {
                return Ok(Ended::Interrupted);
            }
            let Some(s) = message else {
                let last = unshown.and_then(|s| frame(&s, &events));
                return Ok(last.unwrap_or(Ended::Finished));
            };
            events.extend(s.events.iter().cloned());
            if s.time_s() < self.from {
                continue;
            }
            if s.time_s() >= next_frame || !s.events.is_empty() {
                if let Some(ended) = frame(&s, &events) {
                    return Ok(ended);
                }
                next_frame = ((s.time_s() / every).floor() + 1.0) * every;
                unshown = None;
            } else {
                unshown = Some(s);
            }
        }
        // The simulation stopped without its end mark: a stop request, or
        // its error, which `play` reports.
        Ok(if interrupt::requested() {
            Ended::Interrupted
        } else {
            Ended::Finished
        })
    }

    /// The full-screen panel: redrawn as the playback clock moves; space
    /// pauses, + and - change the speed, q quits, Ctrl-C interrupts. The
    /// terminal is restored however it ends.
    fn live(self) -> Result<Ended> {
        let mut screen = Screen::enter()?;
        self.live_loop(&mut screen.0)
    }

    fn live_loop(mut self, terminal: &mut DefaultTerminal) -> Result<Ended> {
        let mut queue: VecDeque<Snapshot> = VecDeque::new();
        let mut shown: Option<Snapshot> = None;
        let mut events: Vec<LogEntry> = Vec::new();
        let mut ended = false;
        let mut paused = false;
        let mut clock = self.from;
        let mut last = Instant::now();
        loop {
            if interrupt::requested() {
                return Ok(Ended::Interrupted);
            }
            loop {
                match self.rx.try_recv() {
                    Ok(Some(s)) => queue.push_back(s),
                    Ok(None) => ended = true,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) if ended => break,
                    Err(TryRecvError::Disconnected) => return Ok(Ended::Finished),
                }
            }
            let elapsed = last.elapsed().as_secs_f64();
            last = Instant::now();
            if !paused {
                clock += elapsed * self.speed;
            }
            while queue.front().is_some_and(|s| s.time_s() <= clock) {
                let s = queue.pop_front().expect("front");
                events.extend(s.events.iter().cloned());
                shown = Some(s);
            }
            if queue.is_empty() && !ended {
                // The simulation is behind: wait for it rather than jump.
                let newest = shown.as_ref().map_or(0.0, |s| s.time_s());
                clock = clock.min(newest.max(self.from));
            }
            let finished = ended && queue.is_empty();
            let status = match (&shown, finished, paused) {
                (_, true, _) => "replay finished · q quit".to_owned(),
                (_, _, true) => "paused · space resume · +/- speed · q quit".to_owned(),
                _ => format!("▶ {}x · space pause · +/- speed · q quit", self.speed),
            };
            terminal.draw(|f| match &shown {
                Some(s) if s.time_s() >= self.from => {
                    let panel = Panel {
                        scenario: self.scenario,
                        snapshot: s,
                        events: &events,
                        status: Some(&status),
                    };
                    f.render_widget(&panel, f.area());
                }
                _ => {
                    let at = shown.as_ref().map_or(0.0, |s| s.time_s());
                    let text = format!(
                        "simulating {}: {} of {} …   (q quits)",
                        self.scenario.name,
                        self.clock(at),
                        self.clock(self.from)
                    );
                    f.render_widget(ratatui::widgets::Paragraph::new(text), f.area());
                }
            })?;
            if event::poll(std::time::Duration::from_millis(50))?
                && let Event::Key(key) = event::read()?
                && key.kind == KeyEventKind::Press
            {
                let quit = if finished {
                    Ended::Finished
                } else {
                    Ended::Left
                };
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(quit),
                    // Raw mode turns Ctrl-C into a key.
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return Ok(Ended::Interrupted);
                    }
                    KeyCode::Char(' ') => paused = !paused,
                    KeyCode::Char('+') | KeyCode::Char('=') => {
                        self.speed = (self.speed * 2.0).min(1e6)
                    }
                    KeyCode::Char('-') => self.speed = (self.speed / 2.0).max(0.25),
                    _ => {}
                }
            }
        }
    }

    fn clock(&self, t_s: f64) -> String {
        self.scenario.clock(SimTime::from_secs_f64(t_s))
    }
}
