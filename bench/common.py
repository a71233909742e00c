"""What every benchmark needs: a PostgreSQL schema and a Redis database of its own, the app
on them, the Jira simulator, gunicorn and RQ worker processes, an RSS sampler, percentiles.

Nothing here is product code: the benchmarks drive the product as deployed (gunicorn,
`python worker.py`, PostgreSQL, Redis) and only set the environment it reads.

BENCH_DATABASE_URL  PostgreSQL (default postgresql://postgres@127.0.0.1:5432/test); each run
                    creates a schema `bench_<pid>_<hex>` there and drops it at the end
BENCH_REDIS_URL     Redis (default redis://127.0.0.1:6379/14), flushed before and after
BENCH_KEEP=1        keep the temporary folder (process logs, attachments) after the run
"""
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PASSWORD = "bench password 1"
PYTHON = sys.executable


# Numbers ----------------------------------------------------------------------------------

def percentile(values, pct):
    """Nearest-rank percentile (p50 = median of an odd count; p95 of 40 = 38th value)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def ms(seconds):
    return round(seconds * 1000, 1)


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Memory -----------------------------------------------------------------------------------

def _status(pid):
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {k: int(v.split()[0]) * 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+ kB)", text, re.M)}


def _children(pid):
    try:
        found = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        return found
    except OSError:
        return []


class RssSampler:
    """Peak resident memory per role, sampled every 50 ms: a process and, separately, its
    children (gunicorn's workers, RQ's forked work horses). Long-lived processes are also
    read from VmHWM (the kernel's own high-water mark) when they stop."""

    def __init__(self, interval=0.05):
        self.interval = interval
        self.roots = {}          # pid -> (role, child role)
        self.peaks = {}          # role -> bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def watch(self, pid, role, child_role=None):
        self.roots[pid] = (role, child_role)

    def _note(self, role, value):
        if role and value:
            self.peaks[role] = max(self.peaks.get(role, 0), value)

    def hwm(self, pid, role):
        self._note(role, _status(pid).get("VmHWM"))

    def _run(self):
        while not self._stop.wait(self.interval):
            for pid, (role, child_role) in list(self.roots.items()):
                self._note(role, _status(pid).get("VmRSS"))
                for child in _children(pid):
                    status = _status(child)
                    self._note(child_role, status.get("VmHWM") or status.get("VmRSS"))

    def take(self):
        """The peaks so far, starting afresh (one benchmark's share)."""
        peaks, self.peaks = self.peaks, {}
        return peaks

    def stop(self):
        self._stop.set()
        self._thread.join(1)


MEMORY = RssSampler()  # one for the whole run: item 7 reports its peaks


# Processes --------------------------------------------------------------------------------

class Processes:
    """Started in their own process groups; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, env, log_dir):
        self.env, self.log_dir = env, Path(log_dir)
        self.running = []

    def start(self, name, args, role=None, child_role=None):
        log_file = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        process.name = name
        process.roles = (role, child_role)
        self.running.append(process)
        if role:
            MEMORY.watch(process.pid, role, child_role)
        return process

    def gunicorn(self, name, wsgi="app:app", workers=2, role="web process"):
        port = free_port()
        process = self.start(name, [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                    "--workers", str(workers), "--access-logfile", "-", wsgi],
                             role=f"{role} (gunicorn master)", child_role=role)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz", process)
        return url, process

    def workers(self, count=2):
        started = [self.start(f"worker-{n}", [PYTHON, "worker.py"], role="RQ worker",
                              child_role="RQ work horse (forked per job)")
                   for n in range(count)]
        from redis import Redis
        redis = Redis.from_url(self.env["REDIS_URL"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:   # registered with RQ: ready to take jobs
            if len(redis.smembers(f"rq:workers:{self.env['RQ_QUEUE']}")) >= count:
                return started
            if any(p.poll() is not None for p in started):
                break
            time.sleep(0.1)
        raise RuntimeError("RQ workers did not start:\n" + self.logs())

    def stop(self, process):
        role, child_role = process.roles
        if role and process.poll() is None:
            for child in _children(process.pid):
                MEMORY.hwm(child, child_role)
            MEMORY.hwm(process.pid, role)
        MEMORY.roots.pop(process.pid, None)
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self):
        for process in list(self.running):
            self.stop(process)

    def logs(self, tail=3000):
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-tail:]
                         for p in sorted(self.log_dir.glob("*.log")))


def wait_http(url, process=None, timeout=30):
    import requests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


# The environment of one benchmark -------------------------------------------------------

class Bench:
    """A fresh PostgreSQL schema (migrated), a flushed Redis database, a temporary instance
    folder, the app in this process, and the environment for gunicorn and workers.

        with Bench("sync") as bench:
            with bench.app.app_context(): ...
            bench.procs.workers(2)
    """

    def __init__(self, name, **settings):
        self.name = name
        self.settings = {key: str(value) for key, value in settings.items()}

    def __enter__(self):
        from cryptography.fernet import Fernet
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        self.schema = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        base = make_url(DATABASE_URL).set(drivername="postgresql+psycopg")
        self._admin_engine = create_engine(base)
        with self._admin_engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.database_url = base.update_query_dict(
            {"options": f"-csearch_path={self.schema},public"}).render_as_string(hide_password=False)
        self._flush_redis()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": f"bench-{self.name}",
            "SECRET_KEY": secrets.token_hex(16),
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "INSTANCE_PATH": str(self.tmp / "instance"),
            "ATTACHMENTS_DIR": str(self.tmp / "attachments"),
            **self.settings,
        }
        os.makedirs(self.env["ATTACHMENTS_DIR"])
        (self.tmp / "logs").mkdir()
        self.procs = Processes(self.env, self.tmp / "logs")
        self.app = self._make_app()
        with self.app.app_context():
            import flask_migrate
            import logging
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
            logging.getLogger("alembic").setLevel(logging.WARNING)
        return self

    def _make_app(self):
        """The app in this process, configured exactly as the subprocesses are."""
        import logging
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            import webapp.config
            import importlib
            config = importlib.reload(webapp.config).Config  # class attributes read the env
            from webapp import create_app
            app = create_app(config, {"RUN_SCHEDULER": False})
        finally:
            os.environ.clear()
            os.environ.update(saved)
        logging.getLogger().setLevel(logging.WARNING)  # the portal logs every Jira call at INFO
        return app

    def _flush_redis(self):
        from redis import Redis
        Redis.from_url(REDIS_URL).flushdb()

    def __exit__(self, *exc):
        from sqlalchemy import text
        self.procs.stop_all()
        try:
            from webapp.extensions import db
            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
        except Exception:
            pass
        with self._admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self._admin_engine.dispose()
        self._flush_redis()
        if exc[0] is not None:
            print(self.procs.logs(), file=sys.stderr)
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {self.tmp} (BENCH_KEEP)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


# Jira ---------------------------------------------------------------------------------------

def start_simulator(**options):
    """The Jira simulator (tests/jirasim) in this process, on a free port, without the
    per-request OpenAPI check (that is for tests; here it would only slow Jira down)."""
    from bench.jira import BenchSimulator
    return BenchSimulator(**options).start()


def configure_jira(sim, **changes):
    """Point the portal at the simulator, active, with the demo custom fields. Call inside an
    app context."""
    from tests.jirasim.portal import configure_portal
    return configure_portal(sim, **changes)


def make_user(email, admin=False, name=None):
    from webapp.cli import create_user
    return create_user(email, PASSWORD, name, admin)


# HTTP clients -------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def form_value(html, name):
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = match and re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def logged_in(base_url, email):
    """A requests.Session logged in through the log-in form, as a browser would be."""
    import requests
    session = requests.Session()
    page = session.get(base_url + "/auth/login")
    token = form_value(page.text, "csrf_token")
    reply = session.post(base_url + "/auth/login", data={"email": email, "password": PASSWORD,
                                                         "csrf_token": token}, allow_redirects=False)
    if reply.status_code != 303:
        raise RuntimeError(f"log-in as {email} failed: {reply.status_code}")
    return session


# The machine --------------------------------------------------------------------------------

def machine():
    """A description of where the figures were measured."""
    cpu = "unknown CPU"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    memory = ""
    try:
        kb = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    engine = create_engine(make_url(DATABASE_URL).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        postgres = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    from redis import Redis
    redis = Redis.from_url(REDIS_URL).info("server")["redis_version"]
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    import gunicorn
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "postgres": postgres, "redis": redis,
        "gunicorn": gunicorn.__version__, "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


@contextmanager
def phase(name):
    log(f"{name} ...")
    started = time.monotonic()
    yield
    log(f"{name}: {time.monotonic() - started:.1f} s")


def dump(result):
    print(json.dumps(result, indent=2, default=str))
