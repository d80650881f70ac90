# syntax=docker/dockerfile:1
# sse-gateway container image (docs/deployment.md).
#   docker build -t registry.example.com/sse-gateway:0.1.0 .
# Without a Docker engine, scripts/build-release-binary builds the same binary on a Debian
# bookworm machine and scripts/check-runtime-libraries checks that the runtime stage
# below installs every shared library it links.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
# OCI labels of the image (below). VERSION is the binary's own (`sse-gateway --version`;
# checks/deploy compares them); pass the rest at build time:
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t …:0.1.0 .
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

# ---------------------------------------------------------------------------- build
FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer stays cached while only the sources change.
# (Package.resolved is optional; when present its versions are used as they are.)
COPY Package.swift Package.resolved* ./
RUN swift package resolve $([ -f Package.resolved ] && echo --force-resolved-versions)
COPY Sources ./Sources
COPY Tests ./Tests
# The same flags as scripts/build-release-binary (checks/deploy compares them).
# --static-swift-stdlib links the Swift runtime and Foundation into the binary; what it
# still links dynamically (libc, libstdc++, and libcurl for FoundationNetworking's HTTPS
# client, used to fetch the JWKS) comes from the runtime stage's packages.
RUN swift build -c release --static-swift-stdlib --product sse-gateway \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/sse-gateway" /out/sse-gateway \
 && install -D -m 0755 /usr/libexec/swift/linux/swift-backtrace-static /out/swift-backtrace-static

# -------------------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}
ARG RUNTIME_IMAGE
ARG VERSION
ARG REVISION
ARG CREATED
# Open Container Initiative annotations: what registries, scanners and `docker inspect` show.
LABEL org.opencontainers.image.title="sse-gateway" \
      org.opencontainers.image.description="Server-Sent Events gateway for Dapr pub/sub with per-user JWT scopes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/${RUNTIME_IMAGE}"
# Only what the binary links and what the image itself uses:
#   libcurl4         FoundationNetworking (HTTPS to the JWKS URL); brings OpenSSL & co.
#   ca-certificates  to verify that HTTPS
#   curl             the HEALTHCHECK below (Kubernetes uses its own probes instead)
# scripts/check-runtime-libraries parses this list: keep one package per word.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin gateway
COPY --from=build /out/sse-gateway /usr/local/bin/sse-gateway
COPY --from=build /out/swift-backtrace-static /usr/local/libexec/swift-backtrace-static
# Readable crash backtraces in the logs, without an interactive debugger.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/swift-backtrace-static
# Numeric, so Kubernetes' runAsNonRoot can verify it (k8s/deployment.yaml uses the same ids).
USER 10001:10001
# GATEWAY_PORT's default.
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${GATEWAY_PORT:-3000}/healthz" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sse-gateway"]
CMD ["serve"]
