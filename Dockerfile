# syntax=docker/dockerfile:1
# pgward image: `docker build -t pgward .` from the repository root (docker-compose.yml and
# charts/pgward use it). The test command does not build it (no docker daemon on CI): it lints this file
# with hadolint (scripts/check-deploy.sh). Keep the build steps in step with scripts/deps.sh and
# scripts/build-spa.sh (wasm-bindgen-cli version = the wasm-bindgen crate in Cargo.lock).
#
# The image carries PostgreSQL client tools only (pg_dump, pg_restore, psql, pg_dumpall of majors 14-18),
# not a PostgreSQL server: it runs with an external catalog (PGWARD_CATALOG__URL), as docker-compose.yml
# and the Helm chart set it.

# ---- build: the web UI (wasm SPA), then the release binary that embeds it ---------------------------
FROM rust:1.95-bookworm AS build
# Node.js/npm only to fetch binaryen's wasm-opt (>= 116; Debian's binaryen 108 breaks the module).
# DL3008 (pin apt versions) ignored: build-only tools that never reach the runtime image; Debian
# replaces a point release's versions, so a pin would only break the build.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The toolchain of rust-toolchain.toml (1.95.0, wasm32-unknown-unknown target, rustfmt, clippy).
COPY rust-toolchain.toml ./
RUN rustup toolchain install \
 && rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130 \
 && cargo install --locked wasm_split_cli_support --version 0.2.4 --features build-binary \
 && npm install --prefix /opt/npm --no-audit --no-fund binaryen@132.0.0
ENV PATH=/opt/npm/node_modules/.bin:$PATH \
    SQLX_OFFLINE=true \
    CARGO_TARGET_DIR=/src/target \
    PGWARD_CACHE=/nonexistent
COPY . .
# build.rs embeds frontend/dist (built first by build-spa.sh) into the binary, so the runtime image needs
# no SPA directory. The target directory is a cache mount: copy the binary out within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    bash scripts/build-spa.sh \
 && cargo build --release --locked -p pgward-server --bin pgward \
 && install -D -m 0755 /src/target/release/pgward /out/pgward

# ---- the PGDG signing key, checked against its published fingerprint -----------------------------
FROM debian:bookworm-slim AS pgdg-key
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# DL3008 ignored: as in the build stage, tools of a throw-away stage (only the key file is copied out).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc -o /tmp/pgdg.asc \
 && gpg --batch --show-keys --with-colons /tmp/pgdg.asc \
    | grep -q '^fpr:::::::::B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8:$' \
 && gpg --batch --dearmor -o /pgdg.gpg /tmp/pgdg.asc

# ---- runtime --------------------------------------------------------------------------------------
FROM debian:bookworm-slim
COPY --from=pgdg-key /pgdg.gpg /usr/share/keyrings/pgdg.gpg
# PostgreSQL client tools of every major 14-18 from the PGDG repository (Debian ships one major): pgward
# dumps a server with the client of its own major, else the nearest newer one (13 servers with 14).
# curl: the HEALTHCHECK. Versions are not pinned: the PGDG repository keeps only each package's newest
# version, so a pin would break the build at its next minor release (security fixes included): DL3008
# (pin apt versions) is ignored for that reason.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && echo "deb [signed-by=/usr/share/keyrings/pgdg.gpg] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends curl tzdata \
      postgresql-client-14 postgresql-client-15 postgresql-client-16 postgresql-client-17 postgresql-client-18 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pgward \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin pgward \
 && mkdir -p /data \
 && chown pgward:pgward /data \
 && chmod 0700 /data
COPY --from=build /out/pgward /usr/local/bin/pgward
# PGWARD_POSTGRES__BIN_DIRS: a directory of roots (14/bin ... 18/bin); pgward picks the client by the
# server's major. PGWARD_DATA_DIR: the secrets key file (when PGWARD_SECRETS__KEY is unset), the scratch
# directory (work/) and local backups (backups/).
ENV PGWARD_DATA_DIR=/data \
    PGWARD_SERVER__BIND=0.0.0.0:8080 \
    PGWARD_POSTGRES__BIN_DIRS='["/usr/lib/postgresql"]' \
    PGWARD_LOG__FORMAT=json
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 8080
# /healthz answers 200 while the process serves; /readyz also checks the catalog and worker loops.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["pgward"]
CMD ["serve"]
