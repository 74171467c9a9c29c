"""scripts/audit_deps.py: pip-audit's JSON read for its three outcomes, without the network.

The "unreachable" report is pip-audit 2.10's real output on this machine (trimmed to three
packages); the others are made by pip-audit's own JSON formatter from its result types.
"""

import importlib.util
import json
from pathlib import Path

import pytest
from packaging.version import Version
from pip_audit._format import JsonFormat
from pip_audit._service import ResolvedDependency, SkippedDependency, VulnerabilityResult

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)

UNREACHABLE = json.loads(
    '{"dependencies": [{"name": "bankservice", "skip_reason": "distribution marked as editable"}, '
    '{"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: '
    'django (5.2.19)"}, {"name": "django-otp", "skip_reason": "Dependency not found on PyPI and '
    'could not be audited: django-otp (1.7.5)"}], "fixes": []}'
)


def pip_audit_json(result) -> dict:
    return json.loads(JsonFormat(output_desc=False, output_aliases=True).format(result, []))


def test_vulnerability_fails_the_check():
    report = pip_audit_json(
        {
            SkippedDependency(name="bankservice", skip_reason=audit_deps.EDITABLE_REASON): [],
            ResolvedDependency(name="Django", version=Version("4.2.2")): [
                VulnerabilityResult(
                    id="GHSA-jh3w-4vvf-mjgr",
                    description="Potential regular expression denial of service",
                    fix_versions=[Version("4.2.3")],
                    aliases={"CVE-2023-36053"},
                    published=None,
                )
            ],
            ResolvedDependency(name="segno", version=Version("1.6.6")): [],
        }
    )
    result = audit_deps.parse_report(report)
    assert result.total == 2
    assert [(v.package, v.id, v.fix_versions) for v in result.vulnerabilities] == [
        ("django", "GHSA-jh3w-4vvf-mjgr", ("4.2.3",))
    ]
    status, lines = audit_deps.verdict(result, strict=False)
    assert status == 1
    assert "VULNERABLE django 4.2.2: GHSA-jh3w-4vvf-mjgr (CVE-2023-36053); fixed in 4.2.3" in lines


def test_vulnerability_fails_even_when_other_packages_were_unchecked():
    report = pip_audit_json(
        {
            ResolvedDependency(name="django", version=Version("4.2.2")): [
                VulnerabilityResult(
                    id="PYSEC-0000-1",
                    description="",
                    fix_versions=[],
                    aliases=set(),
                    published=None,
                )
            ],
            SkippedDependency(name="celery", skip_reason="Dependency not found on PyPI"): [],
        }
    )
    status, lines = audit_deps.verdict(audit_deps.parse_report(report), strict=False)
    assert status == 1
    assert any("NOT performed" in line and "(1 of 2 packages unchecked)" in line for line in lines)
    assert "no fixed version yet" in lines[0]


@pytest.mark.parametrize(("strict", "status"), [(False, 0), (True, 1)])
def test_unreachable_service_is_said_loudly_and_fails_only_when_strict(strict, status):
    result = audit_deps.parse_report(UNREACHABLE)
    assert (result.total, len(result.unchecked), result.vulnerabilities) == (2, 2, [])
    got_status, lines = audit_deps.verdict(result, strict=strict)
    assert got_status == status
    assert lines[0] == (
        "dependency audit NOT performed: vulnerability service unreachable "
        "(2 of 2 packages unchecked)"
    )
    assert not any("no known vulnerabilities" in line for line in lines)


def test_clean_report_passes_and_says_what_was_checked():
    report = pip_audit_json(
        {
            ResolvedDependency(name="django", version=Version("5.2.19")): [],
            ResolvedDependency(name="django-otp", version=Version("1.7.5")): [],
            SkippedDependency(name="bankservice", skip_reason=audit_deps.EDITABLE_REASON): [],
        }
    )
    status, lines = audit_deps.verdict(audit_deps.parse_report(report), strict=True)
    assert status == 0
    assert lines == ["dependency audit: 2 packages checked, no known vulnerabilities"]
