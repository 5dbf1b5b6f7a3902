# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The collection's pinned versions, written once: everything else reads them from here.

Private to the collection (no compatibility promise). The planner's defaults import them; the
ray_image role gets them through the plan (``cluster.version``, ``cluster.image_extra_packages``,
``cluster.image_system_packages``);
``lab/images.sh`` reads the lines below with ``sed`` (so each stays one ``NAME = "value"`` line).
Files that cannot read Python (requirements.txt, constraints.txt, the role argument specs, the
docs) repeat a value, and tests/unit/test_pins.py fails when one of them differs.
"""

from __future__ import annotations

# The Ray release every node runs, and the one before it (the lab's upgrade test starts there).
RAY_VERSION = "2.60.0"
RAY_PREVIOUS_VERSION = "2.59.0"
# The Python minor version of the Ray image.
RAY_PYTHON_VERSION = "3.11"
# The light data layer installed next to Ray in the image (the seed's), pinned.
RAY_IMAGE_EXTRA_PACKAGES = "pandas==2.1.4 numpy==1.26.3 requests==2.34.2"
# The distribution's packages installed in the Ray image (apt, from the base image's own sources):
# the Redis server the collection can deploy as the GCS store (ray_cluster_gcs_storage=redis).
RAY_IMAGE_SYSTEM_PACKAGES = "redis-server"
# The monitoring image (Prometheus, Alertmanager, node exporter; rsyslog with RELP and OpenSSL for the
# log aggregation, and openssl for the receiver's certificate): built from Debian trixie's packages at
# these versions (lab/images.sh, the ray_monitoring role's build method).
MONITORING_PACKAGES = "prometheus=2.53.3+ds1-2 prometheus-alertmanager=0.28.1+ds-1 prometheus-node-exporter=1.9.0-1+b4 rsyslog=8.2504.0-1+deb13u2 rsyslog-relp=8.2504.0-1+deb13u2 rsyslog-openssl=8.2504.0-1+deb13u2 openssl=3.5.9-1~deb13u1"
MONITORING_IMAGE = "wizardsofts/ray-monitoring:2.53.3-0.28.1-1.9.0-8.2504.0"
# Grafana (ray_cluster_grafana): an official image where a registry is reachable (not on the lab's
# machines: the suite checks its dashboards' queries against the lab's Prometheus instead).
GRAFANA_IMAGE = "grafana/grafana-oss:11.6.0"
# The Celery image (Celery, Flower, and the broker's Redis from Debian's packages): lab/images.sh, the
# celery role's build method. The workers run an image built on it with the Celery application.
CELERY_IMAGE = "wizardsofts/celery:5.7.0-2.2.0-py311"
