//! A Slurm job array script: task `i` of `--array=0-(N-1)` runs shard
//! `i/N` with `--cpus-per-task` CPUs, by the running binary's absolute path
//! and the scenario's, so `sbatch` may be called from any folder of a
//! shared filesystem.

use super::{ShardedRun, absolute, shell_quote};
use anyhow::Result;

/// The script for `run`: `program` is the pooldrill binary, `out` the
/// absolute folder of the shards and the merge.
pub fn script(run: &ShardedRun, program: &str, out: &str) -> Result<String> {
    let scenario = absolute(&run.scenario)?;
    let merge = run.merge_command(program, out);
    let task = run.task_command(program, &scenario, out, "SLURM_ARRAY_TASK_ID", " \\\n    ");
    let last = run.shards - 1;
    Ok(format!(
        "#!/bin/bash
# {summary}.
# Submit it, then merge the shards once every task has finished:
#   sbatch sweep.sh
#   {merge}
# or let Slurm merge when every task has succeeded:
#   jobid=$(sbatch --parsable sweep.sh)
#   sbatch --dependency=afterok:$jobid --wrap {wrap}
# Each task asks for {cpus} CPU(s): a node with fewer never starts it (the
# task stays pending); `sinfo -N -o '%N %c'` lists the nodes' CPUs.
#SBATCH --job-name=pooldrill-{command}
#SBATCH --array=0-{last}
#SBATCH --cpus-per-task={cpus}
export RAYON_NUM_THREADS=$SLURM_CPUS_PER_TASK
{task}
",
        summary = run.summary(),
        wrap = shell_quote(&merge),
        cpus = run.cpus,
        command = run.command,
    ))
}
