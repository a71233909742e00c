"""The full delivery soak: 500 requests through real RQ workers under injected faults,
worker kills and a Redis flush (CI runs the same test with 60). Needs Redis.

    .venv/bin/python bench/soak.py [REQUESTS]

Add TEST_DATABASE_URL=postgresql://... to run it on PostgreSQL."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    count = sys.argv[1] if len(sys.argv) > 1 else "500"
    env = {**os.environ, "SOAK_REQUESTS": count}
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/test_soak.py", "-q", "-s", "-p", "no:cacheprovider"],
                            cwd=ROOT, env=env)
    sys.exit(result.returncode)
