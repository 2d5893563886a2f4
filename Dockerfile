# netzbot: one small image, run as an unprivileged user. Build: docker build -t netzbot .
# Everything is configured by environment (NETZBOT_<SECTION>__<KEY>) and an optional
# netzbot.toml mounted at $NETZBOT_CONFIG; see docs/deployment.md.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY jobs ./jobs
COPY storage ./storage
# tzdata: the IANA zones for zoneinfo, independent of the base image's system packages.
RUN pip install --prefix=/install . tzdata

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NETZBOT_HTTP__LISTEN=0.0.0.0:8080 \
    NETZBOT_STORAGE__URL=sqlite:////data/netzbot.sqlite3
RUN groupadd --system --gid 10001 netzbot \
    && useradd --system --uid 10001 --gid netzbot --home-dir /data --shell /usr/sbin/nologin netzbot \
    && mkdir -p /data \
    && chown netzbot:netzbot /data
COPY --from=build /install /usr/local
USER netzbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers 503 when a messenger connection, the database or the scheduler is down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["netzbot"]
CMD ["run"]
