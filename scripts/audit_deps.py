"""Known vulnerabilities in the installed dependencies, reported honestly (run by `make check`).

pip-audit exits 0 with "No known vulnerabilities found" even when it could check nothing: on a
machine that reaches only a PyPI mirror, pypi.org's JSON API (its vulnerability source) answers
404 and every package comes back "not found on PyPI and could not be audited". This script reads
pip-audit's JSON instead:

* any known vulnerability: list it, exit 1;
* packages left unchecked: say loudly that the audit was NOT performed, exit 0 (1 with
  PIP_AUDIT_STRICT=1), so a CI without access to the service passes without claiming anything;
* everything checked and clean: say so, exit 0.

Usage: python scripts/audit_deps.py   (PIP_AUDIT_STRICT=1 to fail when unchecked)
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

# Packages pip-audit skips because we asked it to (--skip-editable): the project itself.
EDITABLE_REASON = "distribution marked as editable"


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    id: str
    fix_versions: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditResult:
    total: int  # packages pip-audit should have checked (editable ones left out)
    unchecked: list[str] = field(default_factory=list)  # "name: reason"
    vulnerabilities: list[Vulnerability] = field(default_factory=list)


def parse_report(report: dict) -> AuditResult:
    """Read pip-audit's JSON report (`--format json`)."""
    total = 0
    unchecked: list[str] = []
    vulnerabilities: list[Vulnerability] = []
    for dep in report["dependencies"]:
        reason = dep.get("skip_reason")
        if reason == EDITABLE_REASON:
            continue
        total += 1
        if reason is not None:
            unchecked.append(f"{dep['name']}: {reason}")
            continue
        for vuln in dep.get("vulns", []):
            vulnerabilities.append(
                Vulnerability(
                    package=dep["name"],
                    version=dep["version"],
                    id=vuln["id"],
                    fix_versions=tuple(vuln.get("fix_versions", ())),
                    aliases=tuple(vuln.get("aliases", ())),
                )
            )
    return AuditResult(total=total, unchecked=unchecked, vulnerabilities=vulnerabilities)


def verdict(result: AuditResult, *, strict: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print."""
    lines = []
    for v in result.vulnerabilities:
        fix = ", ".join(v.fix_versions) or "no fixed version yet"
        also = f" ({', '.join(v.aliases)})" if v.aliases else ""
        lines.append(f"VULNERABLE {v.package} {v.version}: {v.id}{also}; fixed in {fix}")
    if result.unchecked:
        lines.append(
            f"dependency audit NOT performed: vulnerability service unreachable "
            f"({len(result.unchecked)} of {result.total} packages unchecked)"
        )
        lines.append(f"  first reason: {result.unchecked[0]}")
    if result.vulnerabilities:
        lines.append(
            f"dependency audit FAILED: {len(result.vulnerabilities)} known vulnerabilities"
        )
        return 1, lines
    if result.unchecked:
        if strict:
            lines.append("PIP_AUDIT_STRICT=1: an audit that could not run is a failure")
            return 1, lines
        return 0, lines
    lines.append(f"dependency audit: {result.total} packages checked, no known vulnerabilities")
    return 0, lines


def run_pip_audit() -> dict:
    # pip-audit exits 1 when it finds something; the JSON on stdout is what counts.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--skip-editable",
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(completed.stderr)
        raise SystemExit(
            f"dependency audit FAILED: pip-audit exited {completed.returncode}"
        ) from None


def main() -> int:
    strict = os.environ.get("PIP_AUDIT_STRICT", "") == "1"
    status, lines = verdict(parse_report(run_pip_audit()), strict=strict)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
