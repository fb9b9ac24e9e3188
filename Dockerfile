# pgward image for docker-compose.yml. Not built in CI (no container registry here): keep it in step with
# scripts/run.sh by hand.
FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true CARGO_TARGET_DIR=/src/target
RUN bash scripts/build-spa.sh \
 && cargo build --release -p pgward-server --bin pgward

FROM debian:bookworm-slim
# PostgreSQL clients: Debian ships one major; add the PGDG repository for pg_dump of every major 13-18.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/pgward pgward \
 && mkdir -p /var/lib/pgward && chown pgward /var/lib/pgward
COPY --from=build /src/target/release/pgward /usr/local/bin/pgward
COPY --from=build /src/frontend/dist /usr/share/pgward/ui
ENV PGWARD_SERVER__SPA_DIR=/usr/share/pgward/ui PGWARD_DATA_DIR=/var/lib/pgward
USER pgward
EXPOSE 8080
CMD ["pgward", "serve"]
