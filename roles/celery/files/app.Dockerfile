# A user's Celery app on top of the Celery image: installed into the same venv
# (/opt/celery-venv), run with `ray-cluster-celery worker|flower` and the app's name in the
# launcher's configuration. Works with the legacy builder (DOCKER_BUILDKIT=0) and with BuildKit.
#
# Exactly one source of the app:
#   - a pip-installable project (pyproject.toml) copied into the build context as `app/`, or
#   - a pip requirement string in build arg APP_REQUIREMENT (e.g. "myapp==1.2.3", a VCS URL, ...)
# Build args:
#   CELERY_IMAGE     the Celery image (plugins/module_utils/_pins.py CELERY_IMAGE; required)
#   APP_REQUIREMENT  pip requirement of the app (instead of `app/`)
#   APP_MODULE       the app's module as the launcher names it (e.g. wizardsofts_celery_sample.app:app);
#                    recorded as label com.wizardsofts.ray_cluster.celery.app
#   PIP_INDEX_URL    pip index to use; empty = pip's default
# Optional files in the build context (used during the build only, removed from the image):
#   pip-ca.crt       CA bundle pip must trust
#   constraints.txt  pip constraints for the app's dependencies
# The Celery image's own packages stay as they are: the venv's requirements.lock is added to the
# constraints, so an app that needs other versions of celery/kombu/... fails to build instead of
# silently replacing them.
ARG CELERY_IMAGE
FROM ${CELERY_IMAGE}
ARG APP_REQUIREMENT=""
ARG APP_MODULE=""
ARG PIP_INDEX_URL=""
USER root
# `app.Dockerfile` is always there, so each COPY has a source; the bracket globs make the others
# optional (`ap[p]`: the app's project directory, its content lands in /tmp/build/app/).
COPY app.Dockerfile pip-ca.cr[t] constraints.tx[t] /tmp/build/
COPY app.Dockerfile ap[p] /tmp/build/app/
RUN set -eu; \
    rm /tmp/build/app/app.Dockerfile; \
    if [ -f /tmp/build/app/pyproject.toml ] || [ -f /tmp/build/app/setup.py ]; then has_dir=1; else has_dir=0; fi; \
    if [ "${has_dir}" = 1 ] && [ -n "${APP_REQUIREMENT}" ]; then echo "give either app/ or APP_REQUIREMENT, not both" >&2; exit 1; fi; \
    if [ "${has_dir}" = 0 ] && [ -z "${APP_REQUIREMENT}" ]; then echo "give app/ (a pip-installable project) or build-arg APP_REQUIREMENT" >&2; exit 1; fi; \
    if [ -f /tmp/build/pip-ca.crt ]; then export PIP_CERT=/tmp/build/pip-ca.crt; fi; \
    if [ -n "${PIP_INDEX_URL}" ]; then export PIP_INDEX_URL; else unset PIP_INDEX_URL; fi; \
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180; \
    grep -v '^ray-cluster-celery' /opt/celery-venv/requirements.lock > /tmp/build/image.lock; \
    set -- --constraint /tmp/build/image.lock; \
    if [ -f /tmp/build/constraints.txt ]; then set -- "$@" --constraint /tmp/build/constraints.txt; fi; \
    if [ "${has_dir}" = 1 ]; then \
      cp -r /tmp/build/app /tmp/app-src; \
      /opt/celery-venv/bin/pip install "$@" /tmp/app-src; \
    else \
      /opt/celery-venv/bin/pip install "$@" "${APP_REQUIREMENT}"; \
    fi; \
    /opt/celery-venv/bin/pip check; \
    /opt/celery-venv/bin/pip freeze > /opt/celery-venv/app-requirements.lock; \
    if [ -n "${APP_MODULE}" ]; then \
      /opt/celery-venv/bin/python -c "import sys; from ray_cluster_celery.config import import_app; print('app:', import_app(sys.argv[1]).main)" "${APP_MODULE}"; \
    fi; \
    rm -rf /tmp/build /tmp/app-src /root/.cache
# The Celery image's lab inputs hash (lab/images.sh) does not describe this image: cleared.
LABEL com.wizardsofts.ray_cluster.celery.app="${APP_MODULE}" \
      com.wizardsofts.ray_cluster.celery.app_requirement="${APP_REQUIREMENT}" \
      com.wizardsofts.ray_cluster.lab.inputs="" \
      org.opencontainers.image.title="celery-app"
USER 10001:10001
CMD ["ray-cluster-celery", "worker"]
