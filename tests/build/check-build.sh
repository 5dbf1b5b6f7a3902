#!/usr/bin/env bash
# Build the collection artifact and check it the way a user gets it:
#  - it holds what a user runs (roles, plugins, playbooks, meta, docs, changelog, LICENSE) and
#    nothing else: no inventory (inventories/lab names real servers), lab, test, benchmark, CI or
#    developer file, and none of the real servers' addresses anywhere;
#  - installed into a scratch collections path, with its dependency ranges resolved against the
#    collections of the venv's `ansible` package (found on Python's path), then run from a
#    directory outside this checkout with no ansible.cfg of ours: `wizardsofts.ray_cluster.site`
#    passes --syntax-check with all its tags (by name and through import_playbook), and
#    `wizardsofts.ray_cluster.plan` computes a plan (it contacts no host; the scratch inventory
#    has documentation addresses and the local connection anyway).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "check-build: $*" >&2; exit 1; }

ansible-galaxy collection build --output-path "$out" --force >/dev/null
tarball=$(ls "$out"/wizardsofts-ray_cluster-*.tar.gz)
echo "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
tar -tzf "$tarball" | sed -e 's#^\./##' -e 's#/$##' | sort > "$out/files"

# Only these at the top level.
unexpected=$(cut -d/ -f1 "$out/files" | sort -u |
  grep -vxE 'MANIFEST\.json|FILES\.json|README\.md|LICENSE|CHANGELOG\.md|requirements\.yml|changelogs|docs|meta|playbooks|plugins|roles' || true)
[ -z "$unexpected" ] || fail "the artifact has top-level entries a user does not run: $(echo $unexpected)"
# Nowhere, at any depth.
forbidden=$(grep -E '(^|/)(inventories|host_vars|group_vars|lab|tests?|benchmarks|molecule|bin|collections|fragments|\.[^/]+|__pycache__)(/|$)|\.pyc$|(^|/)(ansible\.cfg|hosts\.ya?ml)$' "$out/files" || true)
[ -z "$forbidden" ] || fail "the artifact contains files it must not: $(echo $forbidden)"
for want in roles plugins plugins/modules plugins/filter playbooks/site.yml playbooks/plan.yml meta/runtime.yml \
  LICENSE README.md CHANGELOG.md changelogs/changelog.yaml requirements.yml; do
  grep -qx "$want" "$out/files" || fail "the artifact lacks $want"
done
for role in roles/*/; do
  grep -qx "${role%/}/meta/argument_specs.yml" "$out/files" || fail "the artifact lacks ${role}meta/argument_specs.yml"
done
# None of the real servers' addresses, in any file.
mkdir "$out/content"
tar -xzf "$tarball" -C "$out/content"
mapfile -t addresses < <(grep -rhoE '^\s*(ansible_host|ray_node_ip):\s*\S+' inventories/lab | awk '{print $2}' | sort -u)
[ "${#addresses[@]}" -gt 0 ] || fail "found no addresses in inventories/lab to look for"
leaks=$(grep -rlwF "${addresses[@]/#/-e}" "$out/content" || true)
[ -z "$leaks" ] || fail "the artifact names a server of inventories/lab: $(echo $leaks)"
echo "artifact: $(wc -l < "$out/files") entries, only what a user runs"

# Install it like a user: --offline resolves the dependency ranges against the collections the
# venv's `ansible` package bundles. From here on: the scratch path only, an empty ansible.cfg,
# outside this checkout.
mkdir "$out/run"
cd "$out/run"
printf '[defaults]\n' > ansible.cfg
export ANSIBLE_CONFIG="$out/run/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$out/installed"
unset ANSIBLE_INVENTORY
ansible-galaxy collection install --force --offline -p "$out/installed" "$tarball" > install.log 2>&1 ||
  { cat install.log; fail "install failed (do galaxy.yml's dependency ranges admit the bundled collections?)"; }
cat > inventory.yml <<'YAML'
# Documentation addresses (RFC 5737) and the local connection: nothing is ever contacted.
ray_cluster:
  vars:
    ansible_connection: local
  children:
    ray_head:
      hosts:
        node-a:
    ray_workers:
      hosts:
        node-a: {ray_node_ip: 192.0.2.10, ray_worker_count: 1}
        node-b: {ray_node_ip: 192.0.2.11, ray_worker_count: 2}
YAML
where=$(ansible-galaxy collection list wizardsofts.ray_cluster --format json)
python3 - "$where" "$out/installed" <<'PY' || fail "wizardsofts.ray_cluster resolves to another copy than the installed artifact: $where"
import json, os, sys
found = [path for path, cols in json.loads(sys.argv[1]).items() if "wizardsofts.ray_cluster" in cols]
sys.exit(0 if [os.path.realpath(p) for p in found] == [os.path.realpath(os.path.join(sys.argv[2], "ansible_collections"))] else 1)
PY
ansible-playbook wizardsofts.ray_cluster.site -i inventory.yml --syntax-check > site.log 2>&1 || { cat site.log; fail "site: syntax check failed"; }
cat > own.yml <<'YAML'
- name: A user's own playbook that imports the collection's
  ansible.builtin.import_playbook: wizardsofts.ray_cluster.site
YAML
ansible-playbook own.yml -i inventory.yml --syntax-check > own.log 2>&1 || { cat own.log; fail "import_playbook: wizardsofts.ray_cluster.site failed"; }
tags=$(ansible-playbook wizardsofts.ray_cluster.site -i inventory.yml --list-tags 2>&1 | grep -o 'TASK TAGS: \[.*\]' || true)
for t in ufw docker ray_image ray_head ray_worker verify; do
  grep -qw "$t" <<< "$tags" || fail "the installed site playbook lacks tag $t"
done
ansible-playbook wizardsofts.ray_cluster.plan -i inventory.yml > plan.log 2>&1 || { cat plan.log; fail "plan failed"; }
grep -q "head 192.0.2.10:6379, 4 nodes" plan.log || { cat plan.log; fail "the plan is not the one the inventory describes"; }
grep -qE 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' plan.log || { cat plan.log; fail "plan: unexpected recap"; }
echo "installed artifact: site passes --syntax-check (by name and imported) with every tag, plan computes 4 nodes (run outside $repo)"
