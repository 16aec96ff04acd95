# syntax=docker/dockerfile:1
# `leakgate serve`, the GitHub secret-scanning response service, as a container: a static
# binary on a distroless base (no shell, no package manager), run as a non-root user, its
# SQLite state on a volume. TLS is terminated by the platform in front (a load balancer, an
# ingress, a reverse proxy); the service speaks plain HTTP on port 8080 inside.
#
#   docker build -t leakgate .
#   docker run --env-file leakgate.env -p 127.0.0.1:8080:8080 -v leakgate-state:/var/lib/leakgate leakgate
#
# Configuration: secrets only from the environment (LEAKGATE_WEBHOOK_SECRET,
# LEAKGATE_GITHUB_TOKEN, LEAKGATE_GENESYS_ADMIN_CLIENT_ID, LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET,
# and LEAKGATE_GITHUB_API_URL for GitHub Enterprise Server); the policy in a `.leakgate.toml`
# mounted at /etc/leakgate/.leakgate.toml (read-only). See the README, "Respond to GitHub
# secret-scanning alerts".

# Build: Alpine's Rust targets musl, whose binaries are static (SQLite and ring are compiled
# in by the C toolchain of build-base).
FROM rust:1.88-alpine AS build
RUN apk add --no-cache build-base
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
 && install -D -m 0755 target/release/leakgate /out/leakgate \
 && mkdir -p /out/state \
 && if readelf -d /out/leakgate | grep -q NEEDED; then echo "not a static binary" >&2; exit 1; fi \
 && /out/leakgate --version

# Run: distroless "static" holds CA certificates, /etc/passwd with the `nonroot` user (65532)
# and nothing else; leakgate also carries its own copy of the Mozilla roots.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/leakgate /usr/local/bin/leakgate
# The state directory, owned by the service's user (no shell here to chown it at start).
COPY --from=build --chown=65532:65532 /out/state /var/lib/leakgate
USER 65532:65532
# `.leakgate.toml` is read from the working directory: mount it here.
WORKDIR /etc/leakgate
VOLUME ["/var/lib/leakgate"]
EXPOSE 8080
# Liveness and readiness are HTTP: point the platform's probes at GET /healthz and GET /readyz
# (there is no shell or curl in the image for a HEALTHCHECK command).
ENTRYPOINT ["/usr/local/bin/leakgate", "serve"]
CMD ["--listen", "0.0.0.0:8080", "--state", "/var/lib/leakgate/leakgate.db", "--log-format", "json"]
