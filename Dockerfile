# syntax=docker/dockerfile:1
# One image for every streamwise process; the command picks the role:
#   docker run --rm streamwise learn | serve | produce ... | demo
# Configuration comes only from STREAMWISE_* environment variables at run time. The image holds
# no secrets: STREAMWISE_SNAPSHOT__KEY must be given by whoever runs it (docker-compose.yml does).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# A fixed uid, so volume ownership and securityContext rules can name it.
RUN groupadd --system --gid 10001 streamwise \
 && useradd --system --uid 10001 --gid streamwise --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin streamwise

# Only what the wheel needs: the four import packages of the one distribution (STYLE.md §2).
# tests/test_compose.py checks this list against pyproject's packages.find.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY streamwise/ streamwise/
COPY ingest/ ingest/
COPY learner/ learner/
COPY api/ api/
RUN pip install --no-cache-dir . \
 && rm -rf /build

# Run from an empty directory: nothing on sys.path shadows the installed packages.
WORKDIR /app
USER streamwise:streamwise

# API (STREAMWISE_API__PORT) and learner metrics (STREAMWISE_LEARNER__METRICS_PORT) defaults.
# Both bind 127.0.0.1 unless told otherwise; in a container set *_HOST=0.0.0.0.
EXPOSE 8000 9100

ENTRYPOINT ["streamwise"]
CMD ["--help"]
