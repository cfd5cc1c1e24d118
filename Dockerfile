# marketplace-entitlement: the bundled CLI (dist/cli.cjs, dist/cli.mjs, dist/chunks/) on a Node.js LTS runtime, and
# nothing else.
#
#   docker build -t marketplace-entitlement:0.1.0 .
#
# One OCI image index for amd64 and arm64 (Graviton) nodes, labelled with the release (docs/deployment.md):
#
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=0.1.0 \
#     --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
#     -t <your registry>/marketplace-entitlement:0.1.0 --push .
#
# The build stage (npm ci, tsc, esbuild, bake) runs once, on the builder's own platform: its output is JavaScript and
# JSON, the same for every target. Only the rootfs stage runs on the target platform (emulated when it is not the
# builder's): it takes that platform's node binary and the shared libraries it links against.
#
# A seller bakes their product code and public key into the image they publish (recommended; see
# docs/deployment.md "Baked image"), so the manifests they hand to buyers carry neither:
#
#   docker build --build-arg PRODUCT_CODE=<your product code> \
#                --build-arg PUBLIC_KEY_FILE=<path of the PEM key, relative to the build context> \
#                [--build-arg INSTANCE_BINDING=platform|kubernetes|ecs|none] \
#                [--build-arg TLS_ROOTS_FILE=<PEM bundle of the only CAs to trust for AWS; default Amazon's roots>] \
#                -t <your registry>/marketplace-entitlement:0.1.0 .
#
# That runs `marketplace-entitlement bake`: the image is then sealed (no endpoint, key or product code override,
# no code injection, no mounts over the bundle; docs/threat-model.md).
#
# Base image: an exact release tag, not a digest (a digest cannot be resolved in the offline CI that builds
# this file, and an exact tag is what Renovate/Dependabot bump; re-pin by digest when you mirror it).
# Node 24 is an LTS line supported until April 2028; Node 20 is end-of-life, Node 22 ends in April 2027, and
# the AWS SDK requires Node >= 22 from January 2027. Only the build stage uses this image: the runtime stage
# is `scratch` plus the node binary, the shared libraries it links against, the bundle, and their licences and SBOM.

############################## build: npm ci, tsc + esbuild bundle (builder's platform) ##############################
FROM --platform=$BUILDPLATFORM docker.io/library/node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency install script runs in the build (esbuild & co. ship their binaries as
# optional packages and need none).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
# The SBOM's timestamp (the build context has no .git to take the commit time from); unset, it has none.
ARG SOURCE_DATE_EPOCH
RUN npm run build \
 && test -f dist/cli.cjs -a -f dist/cli.mjs -a -d dist/chunks -a -f dist/sbom.cdx.json \
 && node dist/cli.cjs --help > /dev/null
ARG PRODUCT_CODE=""
ARG PUBLIC_KEY_FILE=""
ARG INSTANCE_BINDING=platform
# Only for a pre-release image that must trust a test CA (docs/aws-as-production.md), or a partition whose endpoints
# chain to other roots: a sealed image trusts Amazon's roots and nothing else by default.
ARG TLS_ROOTS_FILE=""
# Sealing: `bake` vets the product code and key with the runtime's own checks (a bad one fails the build here, not
# the first pod in a buyer's cluster) and writes baked-config.json, which the rootfs stage puts beside the bundle, so
# the CLI runs sealed (docs/threat-model.md). Both build args or neither.
RUN set -eu; \
    mkdir -p /baked/opt/marketplace-entitlement /baked/etc/marketplace-entitlement; \
    if [ -n "$PRODUCT_CODE$PUBLIC_KEY_FILE" ]; then \
      node dist/cli.mjs bake --product-code "$PRODUCT_CODE" --public-key-file "/src/$PUBLIC_KEY_FILE" \
        --instance-binding "$INSTANCE_BINDING" ${TLS_ROOTS_FILE:+--tls-roots "/src/$TLS_ROOTS_FILE"} \
        --into /baked/opt/marketplace-entitlement --log-level error; \
      install -m 0444 "/src/$PUBLIC_KEY_FILE" /baked/etc/marketplace-entitlement/public-key.pem; \
    fi

############################## rootfs: what the runtime image holds (target platform) ##############################
# --platform spelled out, though it is the default: podman 4.3 otherwise reuses the build stage's (builder's) image.
FROM --platform=$TARGETPLATFORM docker.io/library/node:24.21.0-bookworm-slim AS rootfs
WORKDIR /src
COPY --from=build /src/dist/ /src/dist/
COPY --from=build /src/LICENSE /src/scripts/image-sbom.mjs /src/
COPY --from=build /baked/ /rootfs/
# Set by buildx/BuildKit and podman for the platform being built: a base image of another architecture (a mirror
# tag that points at the wrong one) fails the build here, not with an exec format error on the first node.
ARG TARGETARCH
# The release's version and commit (also labels, below) go into the image SBOM. Used in this RUN, they are part of its
# cache key, so a builder whose cache ignores build args in LABEL (podman 4.3) still labels a new commit correctly.
ARG VERSION=0.1.0
ARG REVISION=""
RUN set -eu; \
    node_arch=$(node -p process.arch); \
    case "${TARGETARCH:-any}:$node_arch" in amd64:x64|arm64:arm64|any:*) ;; \
      *) echo "the base image's node is built for $node_arch, not the target platform's $TARGETARCH" >&2; exit 1;; esac; \
    mkdir -p /rootfs/opt/marketplace-entitlement /rootfs/usr/local/bin /rootfs/etc/marketplace-entitlement \
             /rootfs/var/run /rootfs/tmp /entitlement-dir; \
    install -m 0755 /usr/local/bin/node /rootfs/opt/marketplace-entitlement/node; \
    ln -s /opt/marketplace-entitlement/node /rootfs/usr/local/bin/node; \
    install -m 0444 dist/cli.cjs dist/cli.mjs /rootfs/opt/marketplace-entitlement/; \
    install -m 0444 -D -t /rootfs/opt/marketplace-entitlement/chunks dist/chunks/*.mjs; \
    install -D -m 0444 LICENSE /rootfs/opt/marketplace-entitlement/licenses/LICENSE; \
    install -D -m 0444 dist/THIRD_PARTY_NOTICES /rootfs/opt/marketplace-entitlement/licenses/THIRD_PARTY_NOTICES; \
    if [ -f /usr/local/LICENSE ]; then install -D -m 0444 /usr/local/LICENSE /rootfs/opt/marketplace-entitlement/licenses/node.LICENSE; fi; \
    libs=$(ldd /usr/local/bin/node | grep -o '/[^ ]*'); \
    for lib in $libs; do cp -L --parents "$lib" /rootfs/; done; \
    node image-sbom.mjs --npm-sbom dist/sbom.cdx.json --node /usr/local/bin/node --rootfs /rootfs \
      --licenses /opt/marketplace-entitlement/licenses --version "$VERSION" --revision "$REVISION" $libs; \
    chmod 0444 /rootfs/opt/marketplace-entitlement/licenses/sbom.cdx.json /rootfs/opt/marketplace-entitlement/licenses/debian/*; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group; \
    printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    chmod 1777 /rootfs/tmp; \
    /rootfs/opt/marketplace-entitlement/node --version

############################## runtime ##############################
FROM scratch
ARG PRODUCT_CODE=""
ARG PUBLIC_KEY_FILE=""
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=""
COPY --from=rootfs /rootfs/ /
COPY --from=rootfs --chown=65532:65532 /entitlement-dir/ /var/run/marketplace-entitlement/
# Baked configuration (empty unless the build args were given; an empty MARKETPLACE_* variable counts as unset).
# The sealed CLI takes its values from baked-config.json; these equal ones are accepted, for app images that copy
# the key and variables (docs/deployment.md).
ENV MARKETPLACE_PRODUCT_CODE=${PRODUCT_CODE} \
    MARKETPLACE_PUBLIC_KEY_FILE=${PUBLIC_KEY_FILE:+/etc/marketplace-entitlement/public-key.pem}
LABEL org.opencontainers.image.title="marketplace-entitlement" \
      org.opencontainers.image.description="AWS Marketplace paid container entitlement: RegisterUsage init container, healthcheck and sidecar" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/node:24.21.0-bookworm-slim"
# Written by `register`/`serve`/`run`; a volume so that `docker run --read-only` works without extra flags.
VOLUME ["/var/run/marketplace-entitlement"]
USER 65532:65532
# --disable-sigusr1 (Node 22.14+, 24): a SIGUSR1 from a sidecar sharing the pod's process namespace opens no inspector,
# not even before the CLI's own SIGUSR1 listener is in place (docs/threat-model.md, "the signal").
ENTRYPOINT ["/opt/marketplace-entitlement/node", "--disable-sigusr1", "/opt/marketplace-entitlement/cli.cjs"]
CMD ["register"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/opt/marketplace-entitlement/node", "--disable-sigusr1", "/opt/marketplace-entitlement/cli.cjs", "check"]
