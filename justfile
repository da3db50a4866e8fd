# vidplat tasks. `just` (or `uv run just`: just ships as the rust-just dev dependency)
# lists them. Every recipe goes through `uv run`, so the project's venv is always used.

# Recipe arguments reach the commands as "$@", quoted as given.
set positional-arguments

# List the recipes
default:
    @"{{ just_executable() }}" --justfile "{{ justfile() }}" --list --unsorted

# Run the API: embedded mode (SQLite, in-process jobs) unless VIDPLAT_DATABASE_URL/VIDPLAT_REDIS_URL are set
serve *args:
    uv run vidplat serve "$@"

# Run the SAQ worker: upload processing and the cron jobs (production wiring, needs VIDPLAT_REDIS_URL)
worker:
    uv run vidplat worker

# Apply the database migrations (alembic upgrade head) to VIDPLAT_DATABASE_URL
migrate:
    uv run vidplat migrate

# Run the whole test suite (services: VIDPLAT_TEST_* URLs, else Docker, else those tests skip)
test *args:
    uv run pytest "$@"

# Run the unit tests only: no services, a few seconds
unit *args:
    uv run pytest tests/unit "$@"

# Lint, format check, strict types and import layers (no services needed)
check:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy
    uv run lint-imports

# Format the code and apply ruff's safe fixes
fmt:
    uv run ruff format .
    uv run ruff check --fix .

# Run the benchmarks against the production wiring: `just bench`, or `just bench quick` (installs nginx and wrk if missing)
bench *args:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
        echo "bench: installing Debian's nginx-light and wrk"
        sudo=$([ "$(id -u)" = 0 ] || echo sudo)
        $sudo apt-get update -qq && $sudo apt-get install -y -qq nginx-light wrk >/dev/null
    fi
    uv run python -m bench "$@"

# /docs and /docs/scalar in headless Chromium, no other host reachable: render, "Try it out" with a token (not in CI)
docs-browser:
    command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
    uv run python -m bench.docs_browser

# A VP9 upload played by hls.js (pinned) in headless Chromium: level switch, seek past the playback TTL, storyboard; `just hls-browser embedded s3` (not in CI)
hls-browser *args:
    command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
    command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm)
    uv run python -m bench.hls_browser "$@"

# Build and start the production stack in Docker (needs VIDPLAT_JWT_SECRET and VIDPLAT_PLAYBACK_SECRET, e.g. in .env)
up:
    docker compose up --build -d

# Stop the Docker stack (named volumes are kept; `docker compose down -v` drops them)
down:
    docker compose down

# Run what CI runs: services, checks, tests (as on the CI machine)
ci:
    bash .ci/run
