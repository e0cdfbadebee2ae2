# syntax=docker/dockerfile:1
# Node 24: the current Active LTS line (supported until April 2028); Node 20 reached its end of life in April 2026.
# Build stage: native addons (better-sqlite3, argon2) need a compiler; the runtime image does not.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-fund --no-audit

FROM node:24-bookworm-slim
# The bundled config reads all of these; set PUBLIC_URL and UPSTREAM_URL for your deployment.
ENV NODE_ENV=production \
    HERO_GATEWAY_CONFIG=/etc/hero-gateway/hero-gateway.toml \
    HERO_GATEWAY_LISTEN=0.0.0.0:8080 \
    HERO_GATEWAY_ADMIN_LISTEN=127.0.0.1:8081 \
    HERO_GATEWAY_DATA_DIR=/data \
    PUBLIC_URL=http://localhost:8080 \
    UPSTREAM_URL=http://app:3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json config.example.toml LICENSE ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY docker/hero-gateway.toml /etc/hero-gateway/hero-gateway.toml
# `docker exec -it CONTAINER hero-gateway user add …`: the command on the PATH, with the image's config.
RUN ln -s /app/bin/hero-gateway.js /usr/local/bin/hero-gateway \
  && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://${process.env.HERO_GATEWAY_ADMIN_LISTEN}/healthz`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/hero-gateway.js"]
CMD ["serve"]
