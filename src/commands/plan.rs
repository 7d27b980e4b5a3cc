//! `pooldrill plan [FILE] [--pods N …]`: the capacity plan
//! ([`crate::plan`]) of a scenario file, of flags, or of both, printed as
//! text or JSON. Exit code 0: the fleet fits; 1: it is over-provisioned;
//! 2: bad input. Meant to gate a deploy in CI.

use crate::plan::{Inputs, JobFlag, compute};
use crate::report::plan as render;
use crate::scenario::units::{Duration, Percent, Rate};
use crate::scenario_file::load_file;
use crate::stdout::{out, outln};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `plan`: a scenario file, flags, or both (flags win).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A scenario file to plan from (without one, flags and the scenario
    /// defaults of docs/semantics.md#defaults).
    pub file: Option<PathBuf>,
    /// PostgreSQL max_connections (default 500).
    #[arg(long, value_parser = bounded::<1, 262_143>)]
    pub max_connections: Option<u32>,
    /// Reserved slots: superuser_reserved_connections + reserved_connections
    /// (default 3).
    #[arg(long, value_parser = bounded::<0, 262_143>)]
    pub reserved: Option<u32>,
    /// Pods (default 20).
    #[arg(long, value_parser = bounded::<1, 1_000_000>)]
    pub pods: Option<u32>,
    /// Worker processes per pod, each with its own pool (default 4).
    #[arg(long, value_parser = bounded::<1, 1024>)]
    pub workers: Option<u32>,
    /// Each worker's pool max (default 10).
    #[arg(long, value_parser = bounded::<1, 100_000>)]
    pub pool_max: Option<u32>,
    /// maxSurge of the deploys: a whole percentage of the pods ("25%",
    /// rounded up as Kubernetes does) or a pod count (default: the file's
    /// deploys, else 25%).
    #[arg(long)]
    pub surge: Option<Percent>,
    /// Slots other clients hold: monitoring, psql, migrations (default 5).
    #[arg(long, value_parser = bounded::<0, 262_143>)]
    pub other_clients: Option<u32>,
    /// The background job's pool: "none", "shared" (the worker's pool) or
    /// "own:N" (a pool of max N in one worker per pod).
    #[arg(long)]
    pub job: Option<JobFlag>,
    /// Fleet-wide request rate for the queueing view (default 400/s).
    #[arg(long)]
    pub rate: Option<Rate>,
    /// Mean time a checkout holds its client (default 50ms).
    #[arg(long)]
    pub hold: Option<Duration>,
    /// pg-pool connectionTimeoutMillis ("0s": wait for ever; default 0s).
    #[arg(long)]
    pub acquire_timeout: Option<Duration>,
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl PlanArgs {
    /// The figures the flags give over the scenario's.
    pub fn inputs(&self) -> Inputs {
        Inputs {
            max_connections: self.max_connections,
            reserved: self.reserved,
            pods: self.pods,
            workers: self.workers,
            pool_max: self.pool_max,
            surge: self.surge,
            other_clients: self.other_clients,
            job: self.job,
            rate: self.rate,
            hold: self.hold,
            acquire_timeout: self.acquire_timeout,
        }
    }
}

/// A flag's integer, in the range of the scenario file's field of the same
/// meaning (and its error's words).
fn bounded<const MIN: u32, const MAX: u32>(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| (i64::from(MIN)..=i64::from(MAX)).contains(v))
        .map(|v| v as u32)
        .ok_or_else(|| format!("expected an integer from {MIN} to {MAX}, found {s}"))
}

/// Compute the plan, print it, and return 0 (fits) or 1 (over-provisioned).
pub fn plan(args: &PlanArgs) -> Result<i32> {
    let scenario = args
        .file
        .as_ref()
        .map(|f| {
            Ok::<_, anyhow::Error>((f.display().to_string(), load_file(f, Default::default())?))
        })
        .transpose()?;
    let plan = compute(
        &args.inputs(),
        scenario.as_ref().map(|(file, s)| (file.as_str(), s)),
    )?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        out!("{}", render::text(&plan));
    }
    Ok(if plan.fits { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        plan: PlanArgs,
    }

    fn args(flags: &[&str]) -> PlanArgs {
        let mut argv = vec!["plan"];
        argv.extend_from_slice(flags);
        Cli::parse_from(argv).plan
    }

    #[test]
    fn flags_parse_like_the_issue_writes_them() {
        assert_eq!(args(&["--surge", "25%"]).surge, Some(Percent::Share(25)));
        assert_eq!(args(&["--surge", "5"]).surge, Some(Percent::Count(5)));
        assert_eq!(args(&["--job", "own:10"]).job, Some(JobFlag::Own(10)));
        assert_eq!(args(&["--job", "shared"]).job, Some(JobFlag::Shared));
        assert!(Cli::try_parse_from(["plan", "--job", "own:0"]).is_err());
    }

    /// Every flag reaches the plan's inputs.
    #[test]
    fn the_flags_are_the_plans_inputs() {
        let given = args(&[
            "--max-connections",
            "200",
            "--reserved",
            "4",
            "--pods",
            "3",
            "--workers",
            "2",
            "--pool-max",
            "7",
            "--surge",
            "1",
            "--other-clients",
            "6",
            "--job",
            "none",
            "--rate",
            "50/s",
            "--hold",
            "20ms",
            "--acquire-timeout",
            "1s",
        ])
        .inputs();
        assert_eq!(
            (
                given.max_connections,
                given.reserved,
                given.pods,
                given.workers
            ),
            (Some(200), Some(4), Some(3), Some(2))
        );
        assert_eq!((given.pool_max, given.other_clients), (Some(7), Some(6)));
        assert_eq!(
            (given.surge, given.job),
            (Some(Percent::Count(1)), Some(JobFlag::None))
        );
        assert_eq!(given.rate.map(|r| r.0), Some(50.0));
        assert_eq!(given.hold.map(|d| d.0.as_secs_f64()), Some(0.020));
        assert_eq!(given.acquire_timeout.map(|d| d.0.as_secs_f64()), Some(1.0));
    }

    /// 70000 pods × 70000 workers wrapped u32: the flags take the file's
    /// ranges.
    #[test]
    fn flags_take_the_files_ranges() {
        let e = Cli::try_parse_from(["plan", "--workers", "70000"])
            .err()
            .expect("refused");
        assert!(
            e.to_string()
                .contains("expected an integer from 1 to 1024, found 70000"),
            "{e}"
        );
        for (flag, max) in [
            ("--pods", "1000001"),
            ("--pool-max", "100001"),
            ("--max-connections", "262144"),
            ("--other-clients", "-1"),
        ] {
            assert!(Cli::try_parse_from(["plan", flag, max]).is_err(), "{flag}");
        }
    }
}
