# The portal's web image, used by docker-compose.yml: gunicorn serves the portal, whitenoise its
# static files (collected here, with hashed names, at build time).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Everything but what .dockerignore leaves out (.git, .venv, .env, local databases, caches).
COPY . .
RUN pip install --no-cache-dir . \
    && useradd --system --no-create-home portal
# collectstatic reads the settings, which insist on secrets: throwaway ones, for this step only
RUN DEBUG=true SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
USER portal

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn -c portal/gunicorn.conf.py portal.wsgi"]
