# One image for web, worker and beat; docker-compose.yml chooses the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
RUN useradd --system --create-home --uid 10001 desk

COPY . .
# Editable, so that BASE_DIR (templates, static, locale) stays /app.
RUN pip install -e .
# Build-time steps need a key but never keep it; the real one comes from the environment.
RUN SECRET_KEY=build-only DEBUG=false python manage.py compile_catalogs \
 && SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput -v0 \
 && mkdir -p /app/var/media && chown -R desk /app/var

USER desk
EXPOSE 8000
CMD ["gunicorn", "bankservice.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--access-logfile", "-", "--graceful-timeout", "20"]
