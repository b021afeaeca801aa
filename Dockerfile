# The API image: `diplo serve` by default; the same image runs `diplo seed`, `diplo rebuild`, ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DIPLO_DATA_DIR=/data

WORKDIR /app
COPY . /app
RUN pip install ".[encryption]" \
    && useradd --system --create-home --uid 10001 diplo \
    && mkdir -p /data \
    && chown diplo:diplo /data

# Without DIPLO_DATABASE_URL the embedded SQLite store lives in /data: mount a volume there to keep it.
USER diplo
EXPOSE 8000
CMD ["diplo", "serve", "--host", "0.0.0.0", "--port", "8000"]
