#!/usr/bin/env bash
# No-op rerun cost on the converged lab (bin/lab up first). Prints, for N reruns of site.yml over
# each connection (the lab's SSH-as-operator-with-sudo path, and the Docker API as root): wall
# time, per-host task counts (they must not grow with the host's worker count: lab-80 runs 4
# workers, lab-82 one) and the slowest tasks; then the SSH / Docker ratio of the medians.
# Not a test: figures for the closing note.
#   benchmarks/noop_rerun.sh [runs=3] [extra ansible-playbook args, e.g. --skip-tags verify]
#   CONNECTIONS="ssh" benchmarks/noop_rerun.sh 1     (one connection only)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg"
runs=${1:-3}
shift || true
declare -A median
for connection in ${CONNECTIONS:-ssh docker}; do
  case "$connection" in
    ssh) conn_args=() ;;
    docker) conn_args=(-e lab_connection=community.docker.docker) ;;
    *) echo "unknown connection $connection (ssh or docker)" >&2; exit 2 ;;
  esac
  times=()
  for i in $(seq "$runs"); do
    log=$(mktemp)
    start=$(date +%s%N)
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=8 \
      ansible-playbook -i inventories/local site.yml "${conn_args[@]}" "$@" >"$log" 2>&1 || { tail -30 "$log"; exit 1; }
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    times+=("$ms")
    printf '%s run %d: %d.%01d s\n' "$connection" "$i" $((ms / 1000)) $((ms % 1000 / 100))
    grep -E '^lab-[0-9]+ +:' "$log" | awk '{printf "  %s %s %s %s (tasks run: %d)\n", $1, $3, $4, $8, substr($3,4)+substr($8,9)}'
    [ "$i" = "$runs" ] && { echo "  slowest tasks of the last run:"; grep -E ' -+ [0-9.]+s$' "$log" | head -8 | sed 's/^/    /'; }
    rm -f "$log"
  done
  median[$connection]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
  printf '%s median: %d.%01d s\n' "$connection" $((median[$connection] / 1000)) $((median[$connection] % 1000 / 100))
done
if [ -n "${median[ssh]:-}" ] && [ -n "${median[docker]:-}" ]; then
  awk -v s="${median[ssh]}" -v d="${median[docker]}" 'BEGIN { printf "ssh / docker: %.2f\n", s / d }'
fi
