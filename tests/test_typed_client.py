"""A TypeScript client generated from the served OpenAPI schema compiles.

openapi-typescript turns the tenant API's schema into types, and `tsc --noEmit` checks
clients/typescript/client.ts against them. The npm packages are pinned in
clients/typescript/package-lock.json and installed with `npm ci` on first use.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parent.parent / "clients" / "typescript"


def _run(*args: str) -> None:
    result = subprocess.run(args, cwd=CLIENT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"


@pytest.mark.django_db
def test_the_generated_typescript_client_compiles(client_a):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the typed client check needs Node.js and npm")
    if not (CLIENT / "node_modules" / ".bin" / "tsc").exists():
        _run("npm", "ci", "--no-audit", "--no-fund")
    schema = client_a.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    generated = CLIENT / "generated"
    generated.mkdir(exist_ok=True)
    (generated / "openapi.json").write_text(json.dumps(schema))
    _run(
        "node_modules/.bin/openapi-typescript", "generated/openapi.json", "-o", "generated/api.d.ts"
    )
    _run("node_modules/.bin/tsc", "--noEmit", "-p", "tsconfig.json")
