# sms-ask worker image. The TypeScript runs directly under tsx (a runtime dependency), so there is
# no build stage: install production dependencies, copy the sources, run the CLI.
#
# Debian slim, not Alpine: the Temporal worker's native core (@temporalio/core-bridge) ships
# prebuilt binaries for glibc only. Pinned to the Node release the project is developed on.
FROM node:20.20.2-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Manifests first so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# tsconfig.json is read by tsx at run time (module resolution, emit settings).
COPY bin/ ./bin/
COPY src/ ./src/
COPY tsconfig.json ./

# Files stay owned by root: the worker only reads them, and cannot rewrite its own code.
USER node

ENTRYPOINT ["bin/sms-ask"]
CMD ["worker"]
