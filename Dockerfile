# syntax=docker/dockerfile:1
# The cryptopay-sidecar image: built in one stage, run from a slim one as a non-root user.
# It needs no writable path besides /tmp, so it runs with a read-only root filesystem.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sidecar ./sidecar
# A virtual environment copies cleanly into the runtime stage; byte-compiled ahead of time
# because the runtime filesystem is read-only.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/python -m compileall -q /opt/venv

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="cryptopay-sidecar" \
      org.opencontainers.image.description="The Crypto Pay API as a typed gRPC sidecar" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/cryptopay-sidecar/cryptopay-sidecar"
RUN groupadd --system --gid 10001 cryptopay \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin cryptopay
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
# gRPC API; HTTP for /healthz, /readyz, /metrics and webhooks.
EXPOSE 50051 8080
ENTRYPOINT ["cryptopay-sidecar"]
CMD ["serve", "--grpc-listen", "0.0.0.0:50051", "--http-listen", "0.0.0.0:8080"]
