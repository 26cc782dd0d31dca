# healthmon worker / generator image.
#   docker build -t healthmon .
#   docker run --rm -e KAFKA_BROKER_URL=kafka://kafka:9092 -p 6066:6066 healthmon          # a worker
#   docker run --rm -e KAFKA_BROKER_URL=kafka://kafka:9092 healthmon generate --rate 500  # traffic

# Build wheels for everything in a stage with a compiler, so the runtime image needs none.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY healthmon ./healthmon
COPY streams ./streams
COPY agents ./agents
COPY schemas ./schemas
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEALTHMON_WEB_HOST=0.0.0.0 \
    HEALTHMON_WEB_PORT=6066 \
    HEALTHMON_DATA_DIR=/var/lib/healthmon
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels healthmon \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /var/lib/healthmon --create-home healthmon
USER healthmon
WORKDIR /var/lib/healthmon
EXPOSE 6066
# The worker answers /healthz on its web port; the image has no curl, so ask Python.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEALTHMON_WEB_PORT', '6066'), timeout=4)"
ENTRYPOINT ["healthmon"]
CMD ["worker"]
