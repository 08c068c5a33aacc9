"""The Grafana dashboard and the Prometheus alert rules parse, and name only metrics that ``/metrics`` exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.settings import ENV_PREFIX, Settings
from tests.api.metrics.scrape import series_names

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "deploy" / "grafana" / "fieldhub.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
_OURS = re.compile(r"\bfieldhub_[a-z0-9_]+")


async def _exposed(client: AsyncTestClient[Litestar]) -> set[str]:
    # The test process runs the app and imports the worker (tests/conftest.py), so its /metrics carries
    # both the serving families and delivery's, as `serve` and `worker --metrics-port` do separately.
    response = await client.get("/metrics")
    assert response.status_code == 200
    names = series_names(response.text)
    assert "fieldhub_delivery_queue_lag_seconds" in names
    return names


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert exprs, "the dashboard has no queries"
    return exprs


def _rule_exprs() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert all(
        rule.get("alert") and rule.get("annotations", {}).get("summary")
        for group in rules["groups"]
        for rule in group["rules"]
    )
    return exprs


async def test_every_metric_the_dashboard_queries_is_exposed(client: AsyncTestClient[Litestar]) -> None:
    exposed = await _exposed(client)
    used = {name for expr in _dashboard_exprs() for name in _OURS.findall(expr)}
    assert used, "the dashboard queries no fieldhub metric"
    assert used - exposed == set()


async def test_every_metric_the_alerts_use_is_exposed(client: AsyncTestClient[Litestar]) -> None:
    exposed = await _exposed(client)
    used = {name for expr in _rule_exprs() for name in _OURS.findall(expr)}
    assert {"fieldhub_delivery_queue_lag_seconds", "fieldhub_redis_pubsub_up"} <= used
    assert used - exposed == set()


def test_the_alert_rules_pass_promtool_when_it_is_installed() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        # Without the Debian package `prometheus`: the YAML shape is checked above and here.
        assert len(_rule_exprs()) >= 8
        return
    checked = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_deployment_files_name_only_real_settings() -> None:
    # A misspelt variable in a unit file or manifest is silently ignored by the program: catch it here.
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.__struct_fields__}
    files = [
        *(ROOT / "deploy" / "systemd").iterdir(),
        *(ROOT / "deploy" / "kubernetes").iterdir(),
        ROOT / "docker-compose.yml",
        ROOT / "docs" / "operations.md",
    ]
    named = {name for path in files for name in re.findall(r"\bFIELDHUB_[A-Z0-9_]*[A-Z0-9]\b", path.read_text())}
    assert {"FIELDHUB_DATABASE_URL", "FIELDHUB_BACKUP_S3_BUCKET"} <= named
    # FIELDHUB_ADMIN_PASSWORD is read by `create-admin` alone; FIELDHUB_TEST_* by the test suite.
    assert {n for n in named - known if n != "FIELDHUB_ADMIN_PASSWORD" and not n.startswith("FIELDHUB_TEST_")} == set()
