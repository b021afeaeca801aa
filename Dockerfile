# The API image: `diplo serve` by default; the same image runs `diplo seed`, `diplo rebuild`, ...

# The web page, built as `make web` builds it; only web/dist goes on to the image.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DIPLO_DATA_DIR=/data

WORKDIR /app
COPY . /app
# The built page goes into the wheel pip makes here (setup.py), so the installed package serves it at /.
COPY --from=web /web/dist /app/web/dist
# `otel`: tracing, off until OTEL_EXPORTER_OTLP_ENDPOINT (or another OTEL_* variable) asks for it.
RUN pip install ".[encryption,otel]" \
    && python -c "import importlib.resources as r; assert (r.files('api') / 'web_dist' / 'index.html').is_file()" \
    && useradd --system --create-home --uid 10001 diplo \
    && mkdir -p /data \
    && chown diplo:diplo /data

# Without DIPLO_DATABASE_URL the embedded SQLite store lives in /data: mount a volume there to keep it.
USER diplo
EXPOSE 8000
# Liveness only: the process answers. Readiness (/readyz: the store answers and the read models keep up) is for
# whatever routes traffic (compose's depends_on, a load balancer, an orchestrator's readiness probe).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=3)"]
CMD ["diplo", "serve", "--host", "0.0.0.0", "--port", "8000"]
