"""The release pipeline as the collector shows it: releases a pipeline made (or that were only
seen in events), JS events whose debug IDs match no uploaded artifact, rollback deploys, and
why an issue regressed. The Web API handlers and pages call these with one line each; the
SQL and the rules live in ``db/pipeline``."""

from __future__ import annotations

from typing import Any, Dict, List

from .db import pipeline
from .html import Html, html, join

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .db.store import Store


def after_deploy(store: Store, version: str, deploy_id: int) -> Any:
    """Record a new deploy as a rollback when it went back to an older release (and the
    release as a pipeline's); the deploy's row as it is now."""
    with store.write() as c:
        pipeline.mark_pipeline(c, version)
        pipeline.record_deploy(c, deploy_id)
    return pipeline.deploy_row(store, deploy_id)


def release_fields(store: Store, row: Any) -> Dict[str, Any]:
    """The ``pipeline`` object of the single-release API answer."""
    return {"pipeline": pipeline.release_marks(store, row["id"], row["version"])}


def release_fragment(store: Store, row: Any) -> Html:
    """The release page's lines about its pipeline (nothing when all is as it should be)."""
    marks = pipeline.release_marks(store, row["id"], row["version"])
    lines: List[Html] = []
    if marks["seenOnlyInEvents"]:
        lines.append(
            html(
                "<p class=st-regressed id=pipeline-events-only>Only seen in events: no pipeline "
                "created this release, so no commits, artifacts or deploys apply to it. Is "
                "the release name the app reports the one the pipeline uses? (<code>releasetag "
                "releases verify</code>)</p>"
            )
        )
    if marks["jsEventsWithoutArtifacts"]:
        lines.append(
            html(
                "<p class=st-regressed id=pipeline-unmatched>{} of the last {} JavaScript "
                "events have debug IDs that match no uploaded artifact: their stack traces stay "
                "minified.</p>",
                marks["jsEventsWithoutArtifacts"],
                marks["jsEventsChecked"],
            )
        )
    for rb in marks["rollbacks"]:
        lines.append(
            html(
                "<p id=pipeline-rollback>Rollback: deployed to {} at {}, back from {}.</p>",
                rb["environment"],
                rb["date"],
                rb["from"],
            )
        )
    if not lines:
        return Html("")
    return html("<section class=card id=pipeline><h3>Pipeline</h3>{}</section>", join(lines))


def regression_facts(store: Store, row: Any) -> List[List[Any]]:
    """The issue page's ``why regressed`` line, for a regressed issue."""
    if row["status"] != "regressed":
        return []
    return [["why regressed", regression_fragment(store, row["id"])]]


def regression_fragment(store: Store, group_id: int) -> Html:
    """Why an issue regressed: the release and environment of the event that reopened it."""
    rows = store.group_regressions(group_id)
    if not rows:
        return Html("")
    last = rows[-1]
    release = store.release_version(last["release_id"]) if last["release_id"] else None
    resolved = (
        store.release_version(last["resolved_release_id"]) if last["resolved_release_id"] else None
    )
    return html(
        "<p id=regression-why>Regressed {}: an event of release {} in environment {} "
        "(resolved in {}).</p>",
        last["date"],
        release or "(none)",
        last["environment"] or "(none)",
        resolved or "(no release)",
    )
