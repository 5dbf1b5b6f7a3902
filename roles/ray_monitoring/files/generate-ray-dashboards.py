# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Write Ray's own Grafana dashboards, as this image's Ray version generates them, into a directory.

Run inside the cluster's Ray image by the ray_monitoring role (tasks/configure.yml):
``python -c <this file's text> <directory> <group id>``. Every ``generate_*_grafana_dashboard``
function of Ray's dashboard factory gives one file, ``<name>_grafana_dashboard.json``, root and the
group's, 0640; JSON files of an earlier version that this one no longer generates are removed.
Prints the names written, as JSON.
"""

import json
import os
import sys

from ray.dashboard.modules.metrics import grafana_dashboard_factory as factory

directory, group = sys.argv[1], int(sys.argv[2])
written = []
for name in sorted(dir(factory)):
    if not (name.startswith("generate_") and name.endswith("_grafana_dashboard")):
        continue
    content, _uid = getattr(factory, name)()
    file = name[len("generate_") :] + ".json"
    path = os.path.join(directory, file)
    with open(path, "w", encoding="utf-8") as out:
        out.write(content)
    os.chown(path, 0, group)
    os.chmod(path, 0o640)
    written.append(file)
if not written:
    sys.exit("this Ray version generates no Grafana dashboard")
for file in os.listdir(directory):
    if file.endswith(".json") and file not in written:
        os.remove(os.path.join(directory, file))
print(json.dumps(written))
