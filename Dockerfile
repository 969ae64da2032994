# sms-ask worker image. The first stage installs every dependency and runs `npm run build` (tsc and
# the workflow bundle); the second runs the compiled output on Node.js 24 with production
# dependencies only: no TypeScript, no bundler at run time.
#
# Debian slim, not Alpine: the Temporal worker's native core (@temporalio/core-bridge) ships
# prebuilt binaries for glibc only.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js ./scripts/
COPY src/ ./src/
RUN node scripts/build.js

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
# Each heap (the main thread's and the workflow thread's) sized for the worker, not for the host:
# unset, V8 lets garbage grow towards a quarter of the machine's memory. 256 MiB holds the default
# workflow cache (SMS_ASK_WORKFLOW_CACHE_SIZE, 500) with room to spare; raise both together.
ENV NODE_OPTIONS=--max-old-space-size=256
# /metrics, /healthz and /readyz; publish the port to scrape it.
ENV SMS_ASK_METRICS_ADDRESS=0.0.0.0:9464
WORKDIR /app
# Manifests first so the dependency layer is reused while only the code changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
# What the package ships (package.json "files"): the CLI and the compiled code with its bundle.
COPY bin/ ./bin/
COPY --from=build /src/dist/ ./dist/

# Files stay owned by root: the worker only reads them, and cannot rewrite its own code.
USER node
EXPOSE 9464
# Liveness: the process serves /healthz. Readiness (/readyz) is for orchestrators that route or
# roll out by it; a restart does not fix an unreachable Temporal or queue.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["bin/sms-ask"]
CMD ["worker"]
