# Switchyard: an LLM API gateway. Node 24 runs the TypeScript sources directly
# (type stripping), so there is no build step: the first stage only installs
# the runtime dependencies, the second copies them beside the sources.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency (the pinned Node for development) is left out: the base image brings Node 24.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
# A config that listens on 0.0.0.0 and so requires gateway keys; mount your own over it.
COPY deploy/switchyard.yaml /etc/switchyard/switchyard.yaml
USER node
EXPOSE 4000
# node:24-slim has no curl: Node's own fetch asks /health (503 while draining, so the container reads unhealthy then).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself as PID 1 (not npm), so that SIGTERM reaches the gateway and starts its graceful shutdown.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=8", "src/cli/main.ts", "serve"]
