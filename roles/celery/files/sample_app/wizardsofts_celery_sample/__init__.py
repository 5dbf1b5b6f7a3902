# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Sample Celery tasks for wizardsofts.ray_cluster (the app is ``wizardsofts_celery_sample.app:app``)."""
