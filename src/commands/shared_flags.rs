//! The flags `run`, `compare` and `sweep` share, flattened into each: the
//! seed and the duration over the scenario's, and the output folder. Each
//! command words their help for itself (`mut_arg`), as it uses them.

use crate::scenario::units::Duration;
use crate::scenario::validate::Overrides;
use clap::Args;
use std::path::PathBuf;

/// The flags `run`, `compare` and `sweep` share.
#[derive(Clone, Debug, Default, Args)]
pub struct SharedFlags {
    /// Replace the scenario's seed.
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. "10m").
    #[arg(long)]
    pub duration: Option<Duration>,
    /// Output folder (default: output/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl SharedFlags {
    /// The seed and the duration over the scenario file's.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            seed: self.seed,
            duration: self.duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SharedFlags;
    use crate::commands::{compare::CompareArgs, run::RunArgs, sweep::SweepArgs};
    use clap::{Args, Command, FromArgMatches};

    /// The command of arguments `A`, checked as clap checks it in debug builds.
    fn command<A: Args>() -> Command {
        let command = A::augment_args(Command::new("x"));
        command.clone().debug_assert();
        command
    }

    /// The help `A` gives the flag `id`.
    fn help<A: Args>(id: &str) -> String {
        let command = command::<A>();
        let arg = command.get_arguments().find(|a| a.get_id() == id);
        arg.and_then(|a| a.get_help()).expect(id).to_string()
    }

    #[test]
    fn each_command_words_the_shared_flags_for_itself() {
        assert_eq!(help::<RunArgs>("seed"), "Replace the scenario's seed");
        assert_eq!(
            help::<CompareArgs>("seed"),
            "Master seed of every arm (default: the first file's `meta.seed`)"
        );
        assert_eq!(
            help::<SweepArgs>("seed"),
            "Replace the scenario's master seed"
        );
        assert_eq!(help::<SweepArgs>("duration"), help::<RunArgs>("duration"));
        assert_eq!(
            help::<CompareArgs>("duration"),
            "Replace every arm's duration (e.g. \"10m\")"
        );
        assert!(help::<SweepArgs>("out").ends_with("default /results)"));
        assert!(help::<CompareArgs>("out").contains("compare-<first>-vs-<second>"));
    }

    #[test]
    fn the_shared_flags_parse_alike_in_every_command() {
        let flags = ["--seed", "7", "--duration", "90s", "--out", "there"];
        let parse = |command: Command, mut argv: Vec<&str>| {
            argv.extend(flags);
            let mut matches = command.no_binary_name(true).get_matches_from(argv);
            SharedFlags::from_arg_matches_mut(&mut matches).expect("the shared flags")
        };
        for shared in [
            parse(command::<RunArgs>(), vec!["a.toml"]),
            parse(command::<CompareArgs>(), vec!["a.toml", "b.toml"]),
            parse(
                command::<SweepArgs>(),
                vec!["a.toml", "--set", "pool.max=2"],
            ),
        ] {
            assert_eq!(shared.seed, Some(7));
            assert_eq!(shared.duration.map(|d| d.0.as_secs_f64()), Some(90.0));
            assert_eq!(shared.out.as_deref(), Some(std::path::Path::new("there")));
            assert_eq!(shared.overrides().seed, Some(7));
        }
    }
}
