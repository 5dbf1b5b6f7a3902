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
# The Celery layer's image (Celery workers, Flower, and the Redis broker run from it): its pip
# requirements, every package pinned (the resolution of celery[redis] + flower, `pip freeze`, in the
# image: bookworm's Python 3.11.2 also needs async-timeout, which redis wants below 3.11.3).
CELERY_PACKAGES = "celery[redis]==5.7.0 flower==2.2.0 amqp==5.4.2 async-timeout==5.0.1 billiard==4.3.2 click==8.5.1 click-didyoumean==0.3.1 click-plugins==1.1.1.2 click-repl==0.4.1 humanize==4.17.0 kombu==5.7.0 packaging==26.3 prometheus-client==0.26.0 prompt-toolkit==3.0.53 python-dateutil==2.9.0.post0 pytz==2026.6 redis==8.1.0 six==1.17.0 tornado==6.6.1 typing-extensions==4.16.0 tzlocal==5.4.5 vine==5.1.0 wcwidth==0.9.4"
# The distribution's packages in the Celery image (apt, from the base image's own sources): the Redis
# server the broker runs (bookworm's, with redis-cli from redis-tools at the same version).
CELERY_SYSTEM_PACKAGES = "redis-server=5:7.0.15-1~deb12u10 redis-tools=5:7.0.15-1~deb12u10"
# The Celery image's tag: <celery version>-<flower version>-py<python minor of the base image>-r<revision>.
# The revision names the image's own files (roles/celery/files: the Dockerfile and the launcher), whose
# digest follows: tests/unit/test_pins.py fails when they change until both are bumped, so a changed
# image is a new tag (and the app images built on it too), never the same tag with other content.
CELERY_IMAGE = "wizardsofts/celery:5.7.0-2.2.0-py311-r2"
CELERY_IMAGE_FILES_SHA256 = "dff377f8a631309a"
