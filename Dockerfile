# Jiesu: one image for every role; the compose file picks the command (`db upgrade`, `topics create`, `run`, `web`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY jiesu/ jiesu/
COPY dispatcher/ dispatcher/
COPY rules/ rules/
COPY sla/ sla/
COPY consumers/ consumers/
COPY notifications/ notifications/
COPY config/catalog/ /opt/jiesu/catalog/
RUN pip install --no-cache-dir . \
    && rm -rf /src \
    && useradd --create-home --uid 10001 --user-group jiesu

# A writable working directory: the stream processors keep working files under var/state in it.
ENV JIESU_CATALOG_DIR=/opt/jiesu/catalog
USER jiesu
WORKDIR /home/jiesu

ENTRYPOINT ["jiesu"]
CMD ["--help"]
