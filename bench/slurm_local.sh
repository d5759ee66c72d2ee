#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying `lmlab experiment run --executor slurm` and
# for its test (crates/lmlab-cli/tests/cli_slurm.rs):
#
#   bench/slurm_local.sh start DIR   # writes DIR/slurm.conf, starts munged, slurmctld and slurmd
#   export SLURM_CONF=DIR/slurm.conf # what `start` prints: Slurm's commands then use this cluster
#   bench/slurm_local.sh stop DIR    # stops the three daemons by the PIDs in DIR/*.pid
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge packages, and root (slurmd starts jobs
# as their user). Everything lives in DIR: a private munge key and socket (the system's munged, if
# any, is left alone), Slurm's state, spool, logs and PID files. The daemons listen on 127.0.0.1
# only, on ports SLURM_LOCAL_PORT and SLURM_LOCAL_PORT+1 (default 6817, 6818). No cgroups:
# proctrack/linuxproc, task/none. No slurmdbd either, so `sacct` has no records here: lmlab then
# reads the jobs' states and reasons from `squeue --states=all`, which the controller answers for
# MinJobAge seconds after a job ends. Finished jobs are also listed in DIR/jobcomp.txt.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
port=${SLURM_LOCAL_PORT:-6817}
cpus=${SLURM_LOCAL_CPUS:-$(nproc)}

# The PIDs of this cluster's job steps (slurmstepd outlives a stopped slurmd) and their children.
steps() {
  local pid
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}; pid=${pid%/environ}
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ] || continue
    { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qx "SLURM_CONF=$dir/slurm.conf" || continue
    echo "$pid"
    cat "/proc/$pid/task/"*/children 2>/dev/null || true
  done
}

stop() {
  # slurmd first (it reports to the controller), then the controller, then munge.
  for name in slurmd slurmctld munged; do
    pidfile="$dir/$name.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  # Job steps left running (a job of a stopped cluster) go too.
  for pid in $(steps); do kill -9 "$pid" 2>/dev/null || true; done
}

wait_for() { # wait_for WHAT COMMAND...: up to 30 s
  local what=$1; shift
  for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "$what did not come up; its log is in $dir" >&2
  stop
  exit 1
}

start() {
  for bin in munged mungekey slurmctld slurmd sinfo; do
    command -v "$bin" >/dev/null || {
      echo "$bin not found: apt-get install slurmctld slurmd slurm-client munge" >&2
      exit 1
    }
  done
  [ "$(id -u)" = 0 ] || { echo "the daemons run as root here: run this as root" >&2; exit 1; }
  stop # a cluster left running in DIR is replaced
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir/munge"
  [ -f "$dir/munge/munge.key" ] || mungekey --create --keyfile="$dir/munge/munge.key"
  # --force: munged refuses a socket directory that is not its own /run/munge otherwise.
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"
  local memory
  memory=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
  cat >"$dir/slurm.conf" <<EOF
# Written by bench/slurm_local.sh: a one-node cluster on 127.0.0.1.
ClusterName=lmlab-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -c # a fresh cluster: jobs of an earlier one in DIR are forgotten
  wait_for slurmctld scontrol ping
  slurmd -N localhost
  wait_for slurmd sh -c 'sinfo -h -N -o %T | grep -Eq "^(idle|mixed|allocated)"'
  echo "export SLURM_CONF=$dir/slurm.conf"
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
