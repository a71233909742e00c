"""Accessibility checks in the browser tests: axe-core against WCAG 2.1 A and AA.

axe-core is a test tool, vendored in tests/vendor/ (never served from static/). The portal's
CSP allows scripts only from its own origin, so the source cannot go in through a <script>
tag; Playwright's page.evaluate runs it through the DevTools protocol, which the CSP does not
govern. That keeps the CSP in force for everything the page itself does while axe looks at it
(a context with bypass_csp=True would switch it off for the whole page).
"""
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_SOURCE = (Path(__file__).parent / "vendor" / f"axe-{AXE_VERSION}.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page):
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (a list of dicts)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))",
        WCAG_TAGS)


def describe(violations):
    """Violations as readable lines, for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join(line.strip() for line in (node["summary"] or "").splitlines())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)

