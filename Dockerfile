# Production-like image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=lending.settings

# WeasyPrint (PDF documents) needs Pango; libpq is for psql-less diagnostics.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
COPY lending ./lending
COPY core ./core
COPY rails ./rails
COPY users ./users
COPY customers ./customers
COPY origination ./origination
COPY servicing ./servicing
COPY arrears ./arrears
COPY reporting ./reporting
RUN pip install .
COPY . .

# collectstatic needs settings to import; these throwaway values are never used at run time.
RUN DEBUG=0 SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=build-only FIELD_HASH_KEY=build-only \
    DATABASE_URL=postgres://build-only@localhost/build-only \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 app && mkdir -p /app/var/media && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "lending.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
