# syntax=docker/dockerfile:1
# Build stage: native addons (better-sqlite3, argon2) need a compiler; the runtime image does not.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-fund --no-audit

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HERO_GATEWAY_CONFIG=/etc/hero-gateway/hero-gateway.toml \
    PUBLIC_URL=http://localhost:8080 \
    UPSTREAM_URL=http://app:3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json config.example.toml ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY docker/hero-gateway.toml /etc/hero-gateway/hero-gateway.toml
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/hero-gateway.js"]
CMD ["serve"]
