#!/usr/bin/env bash
# Build the collection artifact, install it into a scratch path and check that an installed
# copy (not this checkout) resolves the plan module and computes a plan.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ansible-galaxy collection build --output-path "$out" --force >/dev/null
tarball=$(ls "$out"/wizardsofts-ray_cluster-*.tar.gz)
echo "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
if tar -tzf "$tarball" | grep -E '(^|/)(\.venv|collections|lab/cache|\.git)/' ; then
  echo "the artifact contains files it must not"; exit 1
fi
ansible-galaxy collection install --force --offline --no-deps -p "$out/installed" "$tarball" >/dev/null
cd "$out"
printf "[defaults]\n" > none.cfg
cat > plan.yml <<'YAML'
- name: Plan from the installed collection
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan
      wizardsofts.ray_cluster.ray_cluster_plan:
        head_hosts: [a]
        worker_hosts: [a, b]
        hosts:
          a: {ray_node_ip: 192.0.2.1, ray_worker_count: 1}
          b: {ray_node_ip: 192.0.2.2, ray_worker_count: 2}
      register: p
    - name: Check
      ansible.builtin.assert:
        that: p.plan.cluster.expected_node_count == 4
YAML
ANSIBLE_CONFIG="$out/none.cfg" ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-playbook -i localhost, plan.yml > run.log || { cat run.log; exit 1; }
echo "installed artifact computes a plan"
