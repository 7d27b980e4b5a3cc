#!/usr/bin/env bash
# A real Slurm check of `sweep --emit slurm`: starts a throw-away one-node
# cluster (munged, slurmctld, slurmd) from a temporary folder, submits the
# emitted job array of a 3-shard sweep over two keys, merges the shards and
# checks the merge is byte-identical to the same sweep run unsharded.
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge when missing
# (as root, or through passwordless sudo). At run time nothing is written
# under /etc or /var: every configuration, state, log, PID, spool and socket
# path is in the temporary folder; the daemons listen on loopback only and
# are started without systemd. On exit (success, failure, Ctrl-C) every job
# is cancelled, the daemons are stopped by PID (newest first, waiting for
# each) and the folder is removed.
#
# Usage: scripts/slurm-check.sh  (POOLDRILL=path/to/pooldrill to skip the
# build; it must be readable by the job, which runs as the calling user).
set -euo pipefail
cd "$(dirname "$0")/.."
since=$SECONDS
step() {  # what was done, and how long it took since the last step
  echo "slurm-check: $* ($((SECONDS - since)) s)"
  since=$SECONDS
}

# --- install --------------------------------------------------------------
missing=()
for tool in munged:munge slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  step "installing ${missing[*]}"
  if ! log=$({ $sudo apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"; } 2>&1); then
    echo "$log" >&2
    echo "slurm-check: error: could not install ${missing[*]}" >&2
    exit 1
  fi
fi
step "installed: slurmctld, slurmd, slurm-client, munge"

if [ -z "${POOLDRILL:-}" ]; then
  # The binary's path as cargo reports it (wherever the target folder is).
  POOLDRILL=$(cargo build --quiet --locked --bin pooldrill --message-format=json |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
  [ -x "$POOLDRILL" ] || { echo "slurm-check: error: no pooldrill binary built" >&2; exit 1; }
  step "built $POOLDRILL"
fi

# --- a cluster in a temporary folder ----------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pooldrill-slurm.XXXXXX")
chmod 700 "$tmp"
pids=()  # daemons, in start order

# Every process whose working folder is in $tmp (a job's, or a step
# daemon's under the spool folder).
processes_in_tmp() {
  local p cwd
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    case "$cwd/" in "$tmp"/*) echo "${p#/proc/}" ;; esac
  done
}

running() {  # PID exists and is not a zombie waiting to be reaped
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }  # the fields after "PID (COMMAND) ", the state first
  [ "${stat:0:1}" != Z ]
}

stop() {  # stop PID: TERM, up to 20 s, then KILL; reaps it
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 200); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then
    echo "slurm-check: warning: $pid did not stop in 20 s; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local code=$? i p left children=""
  trap - EXIT INT TERM HUP
  set +e
  cd /  # out of $tmp, which this shell's own processes must not hold
  # The daemons' own children (slurmctld's slurmscriptd) end with them.
  for p in "${pids[@]}"; do children+=" $(cat /proc/"$p"/task/*/children 2>/dev/null)"; done
  if [ -f "$tmp/slurm.conf" ] && [ ${#pids[@]} -gt 0 ]; then
    scancel --full "--user=$(id -un)" 2>/dev/null
    for i in $(seq 50); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
  for p in $children; do
    for i in $(seq 50); do running "$p" || break; sleep 0.1; done
  done
  left=$(processes_in_tmp; for p in $children; do running "$p" && echo "$p"; done)
  if [ -n "$left" ]; then
    echo "slurm-check: error: processes left after the cluster stopped:" $left >&2
    for p in $left; do kill -9 "$p" 2>/dev/null; done
    [ "$code" -ne 0 ] || code=1
  fi
  step "stopped the jobs and the daemons"
  if [ "$code" -ne 0 ]; then
    for log in "$tmp"/*.log "$tmp"/work/*.out; do
      [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; } >&2
    done
  fi
  rm -rf "$tmp"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A free loopback port, from a random start.
free_port() {
  local port=$((20000 + RANDOM % 20000))
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

mkdir -p "$tmp"/{state,spool,work}
export SLURM_CONF=$tmp/slurm.conf
host=$(hostname -s)
node=$(slurmd -C | head -n 1)  # NodeName=… CPUs=… as slurmd sees this machine
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$slurmd_port" != "$ctld_port" ] || slurmd_port=$((ctld_port + 1))
cat >"$SLURM_CONF" <<EOF
ClusterName=pooldrill-check
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=check Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
: >"$tmp/plugstack.conf"

# munged refuses to run as root without --force.
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge.key"
setsid munged --foreground --force --key-file="$tmp/munge.key" \
  --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/munge.sock" ] && break; sleep 0.1; done
# The daemons in their own sessions: a Ctrl-C at the terminal reaches this
# script only, which then stops them in order.
setsid slurmctld -D -f "$SLURM_CONF" >>"$tmp/slurmctld.log" 2>&1 &
pids+=($!)
setsid slurmd -D -f "$SLURM_CONF" >>"$tmp/slurmd.log" 2>&1 &
pids+=($!)
for i in $(seq 150); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1) || true
  case "$state" in idle | mix | alloc) break ;; esac
  [ "$i" -lt 150 ] || { echo "slurm-check: error: the node did not come up (state '$state')" >&2; exit 1; }
  sleep 0.2
done
step "started: munged, slurmctld, slurmd on $node"

# --- the sweep, sharded through Slurm and whole -----------------------------
cp tests/tiny.toml "$tmp/tiny.toml"
sweep=(sweep "$tmp/tiny.toml" --set pool.max=2,4 --set traffic.rate=100/s,300/s
  --replications 2 --metric refusal_rate --safe-below 0.5%)
"$POOLDRILL" "${sweep[@]}" --emit slurm --shards 3 --cpus 1 --out "$tmp/out" >"$tmp/sweep.sh"
cd "$tmp/work"
if ! timeout 100 sbatch --wait --quiet "$tmp/sweep.sh"; then
  echo "slurm-check: error: a task of the array failed, or the array took over 100 s" >&2
  exit 1
fi
step "the array of 3 shards ran"
"$POOLDRILL" merge "$tmp"/out/shard-* --out "$tmp/out/merged" >/dev/null
"$POOLDRILL" -q "${sweep[@]}" --out "$tmp/whole" >/dev/null
[ -f "$tmp/out/merged/sweep.csv" ] || { echo "slurm-check: error: no merged sweep.csv" >&2; exit 1; }
diff -r "$tmp/whole" "$tmp/out/merged"
step "merged: equal to the unsharded sweep byte for byte"
