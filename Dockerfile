# One image for the API, the Celery workers and beat (different commands, see docker-compose.yml).
# Build: docker build -t cns:latest .
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    CNS_DATA_DIR=/var/lib/cns \
    CNS_LOG_FORMAT=json

WORKDIR /usr/src/app

# 1. Dependency layer: only pyproject + an empty package, so editing source code keeps this cached.
#    torch comes from the CPU wheel index (the default PyPI wheel pulls ~2 GB of CUDA libraries).
COPY pyproject.toml README.md LICENSE ./
RUN mkdir -p cns && touch cns/__init__.py \
    && pip install --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
    && pip install --extra-index-url https://download.pytorch.org/whl/cpu . \
    && pip uninstall --yes cns

# 2. Source layer.
COPY cns ./cns
COPY config ./config
RUN pip install --no-deps . \
    && groupadd --gid 10001 cns && useradd --create-home --uid 10001 --gid 10001 cns \
    && mkdir -p /var/lib/cns \
    && chown cns:cns /var/lib/cns

USER 10001:10001
EXPOSE 8000

# Liveness of the API container (workers override it in docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# Default command: a worker (as in the guide); the api and beat services override it.
CMD ["celery", "-A", "cns.tasks", "--quiet", "worker", "--loglevel", "INFO", "--queues", "cns", "--without-gossip", "--without-mingle"]
