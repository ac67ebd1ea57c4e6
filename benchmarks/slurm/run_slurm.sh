#!/usr/bin/env bash
# Prove the SLURM profile on a real, single-node SLURM cluster on this machine (loopback only):
# install Debian's slurm-wlm and munge, start munged, slurmctld and slurmd bound to 127.0.0.1,
# generate a synthetic cohort, run the whole pipeline through workflow/profiles/slurm, check the
# outputs, and tear everything down again (also on failure).
#
#   sudo benchmarks/slurm/run_slurm.sh            # CASES=200 SEED=1 by default
#   CASES=1000 KEEP=1 benchmarks/slurm/run_slurm.sh   # KEEP=1 leaves the work folder for a look
#
# Needs root (apt-get, daemons, unshare --net). Everything it writes lives under $WORK (default /tmp/caserepro-slurm);
# the repository is copied there, so the checkout's results/ and .snakemake/ are never touched.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CASES=${CASES:-200}
SEED=${SEED:-1}
WORK=${WORK:-/tmp/caserepro-slurm}
VENV=${VENV:-$REPO/.venv}
HOST=$(hostname -s)
ETC=$WORK/etc
export SLURM_CONF=$ETC/slurm.conf

log() { printf '[slurm-proof %(%H:%M:%S)T] %s\n' -1 "$*"; }

# 1. Packages (Debian 12 ships Slurm 22.05).
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurm-wlm and munge with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge
fi
if ! "$VENV/bin/python" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
  log "installing snakemake-executor-plugin-slurm==2.8.0 (the lock's 'cluster' extra)"
  "$VENV/bin/pip" install -q snakemake-executor-plugin-slurm==2.8.0
fi

# 2. Loopback only. The rest of the script runs in a private network namespace whose only
#    interface is lo, so no daemon or job can listen on or reach another address, whatever it
#    binds to (Slurm 22.05's slurmctld binds 0.0.0.0 even with CommunicationParameters=NoInAddrAny).
if [[ -z ${CASEREPRO_SLURM_NETNS:-} ]]; then
  exec unshare --net env CASEREPRO_SLURM_NETNS=1 "$0" "$@"
fi
ip link set lo up
# glibc's getaddrinfo(AI_ADDRCONFIG), which Slurm uses to bind, finds no IPv4 "configured" when
# 127.0.0.1 is the only address; a second loopback address (still 127/8, still on lo) fixes that.
ip addr add 127.0.0.2/8 dev lo
log "network namespace: $(ip -o -4 addr show | awk '{print $2, $4}' | paste -sd ' ')"
if ! getent hosts "$HOST" | grep -q '^127\.'; then
  echo "hostname $HOST does not resolve to a loopback address; refusing to start SLURM on a public one" >&2
  exit 1
fi
rm -rf "$WORK"
mkdir -p "$ETC" "$WORK/state" "$WORK/spool/$HOST" "$WORK/log" "$WORK/run" /run/munge
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.5)}' /proc/meminfo)
cat >"$ETC/slurm.conf" <<CONF
ClusterName=caserepro
SlurmctldHost=$HOST(127.0.0.1)
CommunicationParameters=NoInAddrAny
SlurmctldPort=6817
SlurmdPort=6818
# Configless: slurmd fetches slurm.conf from slurmctld and points jobs' SLURM_CONF at its cached
# copy, so srun inside a job finds it without anything written to /etc/slurm.
SlurmctldParameters=enable_configless
SrunPortRange=60001-60100
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool/%n
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
# No cgroups, no systemd: track processes by parent id, no task binding, no accounting daemon.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
# Keep finished jobs visible to squeue long enough for Snakemake's status checks.
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# Slurm 22.05's slurmd loads a cgroup plugin even when no cgroup feature is used; it autodetects
# the hierarchy. CGROUP_PLUGIN=cgroup/v1 (or v2) pins it where autodetection fails.
if [[ -n ${CGROUP_PLUGIN:-} ]]; then echo "CgroupPlugin=$CGROUP_PLUGIN" >"$ETC/cgroup.conf"; fi

PIDS=()
teardown() {
  status=$?
  log "tearing down (exit status $status)"
  scancel --user=root 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pidfile in "$WORK/run/slurmd.pid" "$WORK/run/slurmctld.pid" "$WORK/run/munged.pid"; do
    [[ -s $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  if [[ $status -ne 0 ]]; then
    for f in "$WORK"/log/*.log; do echo "== $f"; tail -n 30 "$f"; done
  fi
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK/state" "$WORK/spool"
  exit "$status"
}
trap teardown EXIT

# 3. Daemons.
chown munge:munge /run/munge
log "starting munged"
runuser -u munge -- /usr/sbin/munged --pid-file="$WORK/run/munged.pid" --log-file="$WORK/log/munged.log" \
  --socket=/run/munge/munge.socket.2 2>/dev/null ||
  /usr/sbin/munged --force --pid-file="$WORK/run/munged.pid" --log-file="$WORK/log/munged.log"
munge -n | unmunge >/dev/null
log "starting slurmctld and slurmd"
/usr/sbin/slurmctld -i -f "$SLURM_CONF"
/usr/sbin/slurmd -N "$HOST" --conf-server 127.0.0.1:6817
for _ in $(seq 60); do
  sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)' && break
  sleep 1
done
sinfo
scontrol show config | grep -E '^(SlurmctldHost|CommunicationParameters|ProctrackType|TaskPlugin)'
ss -ltnp 2>/dev/null | grep -E 'slurm|munge' || true
if ip -o -4 addr show | grep -v ' lo ' | grep -q inet; then
  echo "an interface other than lo is visible; refusing to go on" >&2
  exit 1
fi

# 4. A synthetic cohort through the SLURM profile, end to end, in a copy of the repository.
log "generating $CASES synthetic cases (seed $SEED)"
mkdir -p "$WORK/repo"
(cd "$REPO" && git ls-files --cached --others --exclude-standard -z) |
  (cd "$REPO" && xargs -0 cp --parents -t "$WORK/repo" 2>/dev/null) || true
"$VENV/bin/python" -m caserepro.synthetic --cases "$CASES" --seed "$SEED" \
  --template "$REPO/data/raw" --out "$WORK/cohort"
log "running snakemake --workflow-profile workflow/profiles/slurm (plus this test cluster's site flags)"
cd "$WORK/repo"
start=$(date +%s)
# Site flags of this one-node test cluster: no accounting database (so no account, and status by
# squeue, which MinJobAge=600 keeps reliable) and a short first status check.
PATH="$VENV/bin:$PATH" "$VENV/bin/snakemake" --workflow-profile workflow/profiles/slurm \
  --slurm-no-account --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 \
  --config raw_dir="$WORK/cohort" results_dir="$WORK/results" 2>&1 | tee "$WORK/log/snakemake.log"
log "snakemake finished in $(($(date +%s) - start)) s"

# 5. Proof: every job went through sbatch, and the outputs are there.
grep -E "Job [0-9]+ has been submitted with SLURM jobid" "$WORK/log/snakemake.log" || {
  echo "no job was submitted to SLURM" >&2
  exit 1
}
cases=$("$VENV/bin/python" -c "import pandas as pd; print(pd.read_parquet('$WORK/results/validated/cases.parquet')['case_id'].nunique())")
log "validated cases: $cases (expected $CASES)"
[[ $cases == "$CASES" ]]
find "$WORK/results" -type f | sort | sed "s|$WORK/||"
submitted=$(grep -cE "has been submitted with SLURM jobid" "$WORK/log/snakemake.log")
mkdir -p "$REPO/benchmarks/results"
cat >"$REPO/benchmarks/results/slurm.json" <<JSON
{"slurm_version": "$(sinfo --version | awk '{print $2}')", "cases": $CASES, "seed": $SEED,
 "jobs_submitted_to_slurm": $submitted, "snakemake_seconds": $(($(date +%s) - start)),
 "validated_cases": $cases, "network": "private namespace, lo only (127.0.0.1, 127.0.0.2)"}
JSON
log "SLURM proof succeeded ($submitted jobs through sbatch)"
