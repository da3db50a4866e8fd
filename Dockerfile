# syntax=docker/dockerfile:1
# The vidplat image: `vidplat serve | worker | migrate` (compose.yaml runs all three from it).
# Build: docker build -t vidplat .   Run alone (embedded mode): docker run -p 8000:8000 vidplat

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: resolve the locked dependencies into /app/.venv -----------------------------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.9
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3

# npm fetches the pinned Swagger UI and Scalar files when the project is built (hatch_build.py);
# it stays in this stage only.
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/* \
    && pip install "uv==${UV_VERSION}"

WORKDIR /app

# Dependencies first, alone: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project itself. README.md is part of the package metadata; the glob keeps
# the build working whether Alembic is configured in alembic.ini or in pyproject.toml.
COPY README.md hatch_build.py alembic.ini* ./
# The migrations ship inside the package (src/vidplat/adapters/sql/migrations).
COPY src ./src
RUN uv sync --frozen --no-dev

# --- runtime: the venv and the code, no build tools, not root --------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIDPLAT_DATA_DIR=/data \
    VIDPLAT_MEDIA_DIR=/data/media

# /data/media exists and belongs to the app user before a named volume is mounted
# there, so Docker initialises the volume with that ownership and uploads can be written.
RUN groupadd --system --gid 10001 vidplat \
    && useradd --system --uid 10001 --gid vidplat --home-dir /app --no-create-home vidplat \
    && mkdir -p /data/media \
    && chown -R vidplat:vidplat /data

WORKDIR /app
# Owned by root and read-only for the app user: the running service cannot change its code.
COPY --from=build /app /app

USER vidplat
EXPOSE 8000
ENTRYPOINT ["vidplat"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
