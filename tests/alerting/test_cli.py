"""`healthmon alertmanager` refuses bad input with a clear message before it touches anything."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from healthmon.cli import cli


@pytest.mark.parametrize(("args", "env", "message"), [
    ([], {}, "no Alertmanager: pass --url URL or set HEALTHMON_ALERTMANAGER_URLS"),
    (["--url", "alertmanager:9093"], {}, "'alertmanager:9093' is not an http(s) URL"),
    (["--url", "http://am:9093", "--resend-seconds", "0"], {}, "Invalid value for '--resend-seconds'"),
    (["--url", "http://am:9093", "--port", "70000"], {}, "Invalid value for '--port'"),
    (["--url", "http://am:9093"], {"HEALTHMON_DASHBOARD_URL_TEMPLATE": "http://g/{acct}"},
     "HEALTHMON_DASHBOARD_URL_TEMPLATE: Value error, unknown placeholder {acct}"),
    (["--url", "http://am:9093"], {"KAFKA_BROKER_URL": ""}, "KAFKA_BROKER_URL is not set"),
])
def test_bad_input_is_refused(args: list[str], env: dict[str, str], message: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HEALTHMON_ALERTMANAGER_URLS", "KAFKA_BROKER_URL", "HEALTHMON_DASHBOARD_URL_TEMPLATE"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(cli, ["alertmanager", *args], env=env)
    assert result.exit_code != 0
    assert message in result.output


def test_demo_refuses_a_bad_alertmanager_url() -> None:
    result = CliRunner().invoke(cli, ["demo", "--alertmanager", "localhost:9093"])
    assert result.exit_code != 0 and "is not an http(s) URL" in result.output
