#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurmctld, slurmd and munge), for the
# cluster tests and for trying `binaryconnect reproduce --on slurm` without a cluster.
#
#   bash scripts/slurm-local.sh install   # apt-get install slurmctld slurmd munge (root)
#   bash scripts/slurm-local.sh start     # install if needed, configure, start; waits for the node
#   bash scripts/slurm-local.sh stop      # stops the daemons this script started
#   bash scripts/slurm-local.sh status    # exit 0 when the cluster answers
#
# It writes /etc/slurm/slurm.conf and /etc/slurm/cgroup.conf (one node: this machine, all its
# CPUs; partition "debug"), so it is meant for a test machine or container, not a machine that
# is part of a real cluster. Needs root.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE_DIR=/var/lib/binaryconnect-slurm
PID_DIR=/run/binaryconnect-slurm

log() { echo "slurm-local: $*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "needs root (it installs packages, writes $CONF_DIR and starts daemons); found user $(id -un)"
    exit 1
  fi
}

installed() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; }

install() {
  need_root
  if installed; then return 0; fi
  log "installing slurmctld slurmd slurm-client munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

answers() { timeout 10 sinfo -h -o %T >/dev/null 2>&1; }

node_ready() {
  local state
  state=$(timeout 10 sinfo -h -N -o %T 2>/dev/null | head -n 1) || return 1
  case "$state" in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac
}

configure() {
  local host cpus
  host=$(hostname -s)
  cpus=$(nproc)
  mkdir -p "$CONF_DIR" "$STATE_DIR/ctld" "$STATE_DIR/d" "$PID_DIR"
  cat >"$CONF_DIR/slurm.conf" <<EOF
# written by scripts/slurm-local.sh: a one-node cluster for tests
ClusterName=binaryconnect-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=5
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$PID_DIR/slurmctld.pid
SlurmdPidFile=$PID_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/slurmctld.log
SlurmdLogFile=$STATE_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
KillWait=10
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$CONF_DIR/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
IgnoreSystemd=yes
EOF
}

start_munge() {
  if [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; then return 0; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- munged
}

daemon_alive() { [ -f "$PID_DIR/$1.pid" ] && kill -0 "$(cat "$PID_DIR/$1.pid")" 2>/dev/null; }

start() {
  install
  if answers && node_ready; then
    log "already running"
    return 0
  fi
  configure
  start_munge
  daemon_alive slurmctld || slurmctld
  daemon_alive slurmd || slurmd
  for _ in $(seq 1 60); do
    if node_ready; then
      log "one-node cluster up: $(sinfo -h -N -o '%N %c CPUs %T')"
      return 0
    fi
    sleep 1
  done
  log "the node did not become idle in 60 s; see $STATE_DIR/slurmctld.log and $STATE_DIR/slurmd.log"
  sinfo -N >&2 || true
  exit 1
}

stop_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
  fi
  rm -f "$file"
}

stop() {
  need_root
  stop_pid "$PID_DIR/slurmd.pid"
  stop_pid "$PID_DIR/slurmctld.pid"
  stop_pid /run/munge/munged.pid
  log "stopped"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) answers && node_ready ;;
*)
  echo "usage: bash scripts/slurm-local.sh install|start|stop|status" >&2
  exit 2
  ;;
esac
