# Gatehouse: one binary for every role.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
# Declared in Cargo.toml, so the manifest needs them even for the binary alone.
COPY benches benches
COPY examples examples
RUN cargo build --release --locked --bin gatehouse

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/gatehouse /usr/local/bin/gatehouse
USER nobody
ENTRYPOINT ["gatehouse"]
