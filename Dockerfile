# customs: the image that `customs server` (deploy/kubernetes) and the
# database updater run from.
#
#   docker build -t customs:0.1.0 --build-arg VCS_REF=$(git rev-parse HEAD) .
#   docker run --rm customs:0.1.0 version
#
# Needs BuildKit (the default builder since Docker 23; Podman/Buildah work too)
# for the RUN --mount cache mounts.
#
# Two stages: an Alpine Rust toolchain builds one static musl binary, and the
# image that ships is `scratch` holding that binary, the CA bundle, a passwd
# line for uid 65532 and empty writable directories - no shell, no package
# manager, nothing else to patch or to exploit. Pin the two base images by
# digest in your pipeline (FROM image:tag@sha256:...) once you have pulled them.

# The toolchain must be at least 1.89: the locked rusqlite 0.41 and
# serde-saphyr 2.1 require it (the workspace's rust-version says 1.85).
# On Alpine the host target is x86_64-unknown-linux-musl already, so no
# `rustup target add` (and no download) is needed.
FROM rust:1.95.0-alpine AS build
# gcc and musl-dev for the C parts (bundled SQLite, zstd, ring);
# ca-certificates for the bundle copied into the final image.
RUN apk add --no-cache ca-certificates gcc musl-dev
WORKDIR /src
# .dockerignore keeps .git, target/ and local secrets out of the context.
COPY . .
# The musl target links statically by default (crt-static), C parts included.
# --locked: exactly the versions of Cargo.lock, or fail. The cache mounts keep
# the registry and build directory between builds (not in any layer), so the
# binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p customs-cli --target x86_64-unknown-linux-musl \
    && install -D -m 0755 target/x86_64-unknown-linux-musl/release/customs /rootfs/customs
# The final image's files: passwd/group so the uid has a name, the CA bundle
# (registries and feeds over TLS), /tmp, and the two directories the server
# and `db update` write to (volumes in Kubernetes, plain directories under
# `docker run`).
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp /writable/var/cache/customs /writable/var/lib/customs/db \
    && printf 'customs:x:65532:65532:customs:/nonexistent:/sbin/nologin\n' > /rootfs/etc/passwd \
    && printf 'customs:x:65532:\n' > /rootfs/etc/group \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
    && chmod 1777 /rootfs/tmp

FROM scratch
ARG VCS_REF=unknown
LABEL org.opencontainers.image.title="customs" \
      org.opencontainers.image.description="Container image security scanner: vulnerabilities, secrets, misconfigurations, hardening" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://example.invalid/customs" \
      org.opencontainers.image.revision="${VCS_REF}"
COPY --from=build /rootfs/ /
COPY --from=build --chown=65532:65532 /writable/var/cache/customs /var/cache/customs
COPY --from=build --chown=65532:65532 /writable/var/lib/customs /var/lib/customs
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 4954
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
# No HEALTHCHECK: scratch has no shell or curl to run one; Kubernetes probes
# /healthz and /readyz (deploy/kubernetes/deployment.yaml).
ENTRYPOINT ["/customs"]
# The server as deployed; outside Kubernetes mount the token file there
# (-v ./token:/run/secrets/customs/token:ro) or pass other args.
CMD ["server", "--listen", "0.0.0.0:4954", "--token-file", "/run/secrets/customs/token", "--db", "/var/lib/customs/db/customs.db", "--cache-dir", "/var/cache/customs"]
