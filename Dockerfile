# fieldhub: one image for every role (serve, worker, db, demo). Multi-stage: build wheels, then a slim runtime.
FROM python:3.12-slim-bookworm AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip
COPY pyproject.toml constraints.txt README.md ./
COPY hub ./hub
COPY channels ./channels
COPY persistence ./persistence
COPY delivery ./delivery
COPY api ./api
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.12-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FIELDHUB_DATA_DIR=/var/lib/fieldhub
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/fieldhub --uid 10001 fieldhub
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER fieldhub
WORKDIR /var/lib/fieldhub
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2).status == 200 else 1)"
ENTRYPOINT ["fieldhub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
