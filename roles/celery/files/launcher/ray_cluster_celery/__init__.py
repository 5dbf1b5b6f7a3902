# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The launcher of wizardsofts.ray_cluster's Celery containers.

``ray-cluster-celery worker|flower|ping|status`` reads one JSON file (env
``RAY_CLUSTER_CELERY_CONFIG``, default ``/etc/ray-cluster-celery/config.json``) and applies the
operator's reliability settings to any Celery app; secrets come from files only.
``ray_cluster_celery.ray_jobs`` lets tasks submit Ray jobs with the cluster's token.
"""

__version__ = "0.1.0"
