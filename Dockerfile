# syntax=docker/dockerfile:1
# Build stage: the same install command as the README (`npm install`), then drop dev dependencies.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install
COPY tsconfig.json ./
COPY src ./src
COPY views ./views
COPY hooks ./hooks
COPY bin ./bin
COPY docs ./docs
RUN npx tsc -p . && npm prune --omit=dev
# Ferry's modules stripped of their types once, here, into node_modules/.cache/ferry/: the server
# then starts without loading Node's TypeScript stripper (src/boot/stripped.mjs, docs/memory.md).
RUN node --import ./src/boot/stripped.mjs -e ""

# Run stage: Node 24 slim, non-root, data in a volume.
FROM node:24-slim
# Memory: glibc keeps argon2's 19 MiB buffers for the next hash instead of mapping them afresh
# (docs/memory.md), and V8's young generation stays small (the same settings as the package's
# start script). No PORT here: it is a configuration alias
# and would silently override the port of a configuration file.
ENV NODE_ENV=production \
    FERRY_DATA_DIR=/data \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=41943040
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
# The code stays root's: the runtime user writes only to /data.
COPY --from=build /app /app
USER node
VOLUME ["/data"]
EXPOSE 3000
# Liveness, not readiness: /healthz fails only when the process no longer answers, which a restart
# repairs. /readyz (database reachable, scripts able to run) is for load balancers and readiness
# probes: restarting on a database outage repairs nothing, and a failed sandbox process is
# replaced by Ferry itself. The port is read as the server reads it (FERRY_CONFIG or
# ./ferry.config.json, then FERRY_PORT/PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "import('./src/config/load.ts').then(({ loadConfig }) => fetch(`http://127.0.0.1:${loadConfig().config.port}/healthz`)).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# isolated-vm needs --no-node-snapshot; these are the package's start script's flags.
CMD ["node", "--no-node-snapshot", "--max-semi-space-size=4", "--heap-growing-percent=25", "--import", "./src/boot/stripped.mjs", "src/cli/main.ts", "start"]
