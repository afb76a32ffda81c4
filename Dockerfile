# One image that runs every factrace stage: Java + Spark (pyspark) + the package.
# The probe stage needs torch: build with --build-arg EXTRAS=spark,query,probing (PyPI's torch wheel
# carries CUDA), on a CUDA base for GPU nodes (e.g. BASE=nvidia/cuda:12.4.1-runtime-ubuntu22.04 + python3.11).
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}
ARG EXTRAS=spark,query,report

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONUNBUFFERED=1

WORKDIR /opt/factrace
COPY setup.cfg pyproject.toml README.md ./
COPY requirements ./requirements
COPY schemas ./schemas
COPY tracer ./tracer
COPY probing ./probing
COPY jobs ./jobs
# gcc only to build the segmenter's C word loop (tracer/tokenization/_*.c), then removed.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && pip install --no-cache-dir -c requirements/constraints.txt ".[${EXTRAS}]" \
 && (cd / && python -c "from tracer.tokenization.loops import IMPLEMENTATION; assert IMPLEMENTATION == 'compiled'") \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

# `docker run IMAGE extract DUMP --warehouse /wh`, or spark-submit /opt/factrace/jobs/<stage>.py ...
ENTRYPOINT ["factrace"]
CMD ["--help"]
