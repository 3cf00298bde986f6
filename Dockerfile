# The portal's web image, used by docker-compose.yml. Django's development server for now; a
# production server (gunicorn) comes in a later issue.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Everything but what .dockerignore leaves out (.git, .venv, .env, local databases, caches).
COPY . .
RUN pip install --no-cache-dir . \
    && useradd --system --no-create-home portal
USER portal

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py runserver --insecure 0.0.0.0:8000"]
