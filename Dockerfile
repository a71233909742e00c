# One image, two roles: the web process (default) and the RQ worker (`python worker.py`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN pybabel -q compile -d webapp/translations \
 && useradd --system --home /app portal \
 && mkdir -p /app/instance && chown portal /app/instance
USER portal

ENV INSTANCE_PATH=/app/instance
EXPOSE 8000
# Migrations run before the web process starts; workers wait for the database as it is.
# Without REDIS_URL the gunicorn workers run the jobs; one at a time runs the periodic ones
# (the lock on $INSTANCE_PATH/scheduler.lock, webapp/periodic.py).
CMD ["sh", "-c", "flask --app app db upgrade && exec gunicorn --bind 0.0.0.0:8000 --workers ${WEB_WORKERS:-3} --access-logfile - --logger-class webapp.access_log.AccessLogger app:app"]
