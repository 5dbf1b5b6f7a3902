#!/usr/bin/env bash
# No-op rerun cost on the converged lab (bin/lab up first). Prints, for N reruns of site.yml:
# wall time, per-host task counts (they must not grow with the host's worker count: lab-80 runs
# 4 workers, lab-82 one) and the slowest tasks. Not a test: figures for the closing note.
#   benchmarks/noop_rerun.sh [runs=3] [extra ansible-playbook args, e.g. --skip-tags verify]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg"
runs=${1:-3}
shift || true
for i in $(seq "$runs"); do
  log=$(mktemp)
  start=$(date +%s%N)
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=8 \
    ansible-playbook -i inventories/local site.yml "$@" >"$log" 2>&1 || { tail -30 "$log"; exit 1; }
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf 'run %d: %d.%01d s\n' "$i" $((ms / 1000)) $((ms % 1000 / 100))
  grep -E '^lab-[0-9]+ +:' "$log" | awk '{printf "  %s %s %s %s (tasks run: %d)\n", $1, $3, $4, $8, substr($3,4)+substr($8,9)}'
  [ "$i" = "$runs" ] && { echo "  slowest tasks of the last run:"; grep -E ' -+ [0-9.]+s$' "$log" | head -8 | sed 's/^/    /'; }
  rm -f "$log"
done
