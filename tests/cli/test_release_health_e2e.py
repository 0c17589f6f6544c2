"""Issue 9's scenario end to end: a real git repository, the releasetag CLI and SDK in
subprocesses, ``releasetag serve --smtp`` with a real SMTP server listening.

1.0 has three commits and an error raised in a file one of them touched; 1.1's commit says
"Fixes LOCAL-1" (and names issues that are not ours); deploying 1.1 mails exactly 1.1's commit
authors; the same error from 1.2 is a regression; a new error in a file touched only by one
1.2 commit names that commit as suspect and its author as assignee."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

import pytest

from tests.cli.gitrepo import git_env
from tests.support.chromium import Browser
from tests.support.collector import Collector
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.slow, pytest.mark.tools("chromium")]

APP = """\
import sys
import releasetag
releasetag.init(environment="production")
from shop import cart, stock
try:
    {"cart": cart.total, "stock": stock.reserve}[sys.argv[1]]()
except Exception:
    releasetag.capture_exception()
releasetag.flush(5)
"""
CART = "def total():\n    raise ValueError('cart total is negative')\n"
STOCK = "def reserve():\n    raise KeyError('sku-42')\n"


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def collector(tmp_path, smtp):
    c = Collector(
        str(tmp_path / "collector"),
        extra_args=["--smtp", smtp.address, "--mail-from", "releases@shop.test"],
    )
    try:
        yield c
    finally:
        c.stop()


def test_releases_tell_new_issues_fixes_deploy_mail_regressions_and_suspects(
    collector, smtp, make_repo, home
):
    env = git_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        RELEASETAG_URL=collector.url,
        RELEASETAG_AUTH_TOKEN=collector.token,
        RELEASETAG_ORG=collector.org,
        RELEASETAG_PROJECT=collector.project,
        RELEASETAG_DSN=collector.dsn,
    )
    repo = make_repo(remote="git@github.com:Acme/Shop.git")

    def rt(*args):
        res = subprocess.run(
            [sys.executable, "-m", "releasetag", *args],
            cwd=str(repo.path),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 0, (args, res.stdout, res.stderr)
        return res.stdout

    def commit_as(name, files, message):
        repo.git("config", "user.name", name)
        repo.git("config", "user.email", f"{name.lower()}@shop.test")
        for path, text in files.items():
            repo.write(path, text)
        return repo.commit(message)

    def run_app(release, which, cwd=None):
        res = subprocess.run(
            [sys.executable, "run.py", which],
            cwd=str(cwd or repo.path),
            env=dict(env, RELEASETAG_RELEASE=release),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 0, res.stderr

    def issues(query):
        return collector.api(
            "GET", f"/projects/{collector.org}/{collector.project}/issues/?query={quote(query)}"
        )

    # -- 1.0: three commits, an error in the file one of them touched ----------------------
    c_cart = commit_as(
        "Ada",
        {
            "shop/__init__.py": "",
            "shop/cart.py": CART,
            "shop/stock.py": "def reserve():\n    return 1\n",
        },
        "Add the cart",
    )
    commit_as("Bob", {"run.py": APP}, "Add the runner")
    commit_as("Cy", {"README.md": "shop\n"}, "Write a readme")
    rt("releases", "new", "1.0")
    rt("releases", "set-commits", "1.0", "--local")
    rt("releases", "finalize", "1.0")
    v10 = repo.head()
    run_app("1.0", "cart")
    [issue] = issues("is:unresolved release:1.0")
    short = issue["shortId"]
    assert short == "LOCAL-1" and issue["title"] == "ValueError: cart total is negative"
    assert issue["firstRelease"]["version"] == "1.0" and issue["count"] == "1"
    detail = collector.api("GET", f"/issues/{short}/")
    # the commit that touched the raising file ranks above the one that added the runner
    assert [c["id"] for c in detail["suspectCommits"]][0] == c_cart
    assert len(detail["suspectCommits"]) == 2
    assert detail["assignedTo"]["email"] == "ada@shop.test"

    # -- 1.1: "Fixes LOCAL-1" resolves it in 1.1; other references are listed, ignored -----
    c_fix = commit_as(
        "Dee",
        {"shop/cart.py": "def total():\n    return 0\n"},
        f"Fixes {short}: keep totals positive\n\nAlso closes LOCAL-99 and resolves BILLING-3.",
    )
    commit_as("Eve", {"docs/cart.md": "cart\n"}, "Document the cart")
    rt("releases", "new", "1.1")
    rt("releases", "set-commits", "1.1", "--local")
    issue = collector.api("GET", f"/issues/{issue['id']}/")
    assert issue["status"] == "resolved"
    assert issue["statusDetails"] == {"inCommit": {"id": c_fix}, "inRelease": "1.1"}
    refs = collector.api("GET", f"/organizations/{collector.org}/releases/1.1/issues/")
    outcomes = {r["shortId"]: (r["outcome"], r["reason"]) for r in refs["commitIssueRefs"]}
    assert outcomes[short] == ("resolved", None)
    assert outcomes["LOCAL-99"] == ("ignored", "no issue LOCAL-99")
    assert outcomes["BILLING-3"][0] == "ignored" and "billing" in outcomes["BILLING-3"][1]
    assert [i["shortId"] for i in refs["resolved"]] == [short]

    # -- deploy of 1.1: one mail to each 1.1 commit author, nobody else ---------------------
    rt("releases", "deploys", "1.1", "new", "-e", "production")
    mails = smtp.wait_for(2)
    assert sorted(r for _, rcpts, _ in mails for r in rcpts) == ["dee@shop.test", "eve@shop.test"]
    assert len(mails) == 2
    for sender, _, msg in mails:
        assert sender == "releases@shop.test"
        assert msg["Subject"] == "Deployed: 1.1 to production"
    dee = next(m for _, r, m in mails if r == ["dee@shop.test"])
    assert c_fix[:12] in dee.get_content() and "/releases/1.1/" in dee.get_content()
    [deploy] = collector.api("GET", f"/organizations/{collector.org}/releases/1.1/deploys/")
    assert sorted((n["email"], n["status"]) for n in deploy["notifications"]) == [
        ("dee@shop.test", "sent"),
        ("eve@shop.test", "sent"),
    ]

    # an old 1.0 process still failing does not reopen an issue fixed in 1.1
    old = repo.path.parent / "old-1.0"
    repo.git("worktree", "add", "-q", "--detach", str(old), v10)
    run_app("1.0", "cart", cwd=old)
    issue = collector.api("GET", f"/issues/{short}/")
    assert issue["status"] == "resolved" and issue["count"] == "2"

    # -- 1.2: the fixed error is back (a regression); a new error names its suspect --------
    c_stock = commit_as("Fay", {"shop/stock.py": STOCK}, "Reserve stock per SKU")
    c_back = commit_as(
        "Gus",
        {"docs/stock.md": "stock\n", "shop/cart.py": CART},
        "Simplify the cart (brings the negative total back)",
    )
    rt("releases", "new", "1.2")
    rt("releases", "set-commits", "1.2", "--local")
    run_app("1.2", "cart")
    run_app("1.2", "stock")
    unresolved = {i["shortId"]: i for i in issues("is:unresolved release:1.2")}
    assert set(unresolved) == {short, "LOCAL-2"}
    assert unresolved[short]["substatus"] == "regressed"
    assert unresolved["LOCAL-2"]["firstRelease"]["version"] == "1.2"
    assert [i["shortId"] for i in issues("is:regressed")] == [short]
    # the commit that brought it back is the top suspect of the regression
    assert collector.api("GET", f"/issues/{short}/suspect-commits/")[0]["id"] == c_back
    report = collector.api("GET", f"/organizations/{collector.org}/releases/1.2/issues/")
    assert [i["shortId"] for i in report["newIssues"]] == ["LOCAL-2"]
    assert [i["shortId"] for i in report["regressions"]] == [short]
    new = collector.api("GET", "/issues/LOCAL-2/")
    assert [c["id"] for c in new["suspectCommits"]] == [c_stock]
    assert new["suspectCommits"][0]["files"] == ["shop/stock.py"]
    assert (new["assignedTo"]["name"], new["assignedTo"]["email"]) == ("Fay", "fay@shop.test")
    events = collector.api("GET", f"/issues/{short}/events/")
    assert sorted(e["release"] for e in events) == ["1.0", "1.0", "1.2"]

    # -- the pages tell the same story ------------------------------------------------------
    status, html = collector.request("GET", "/releases/1.2/", token=None)
    html = html.decode()
    assert status == 200
    new_part = html.split("id=new-issues", 1)[1].split("id=regressions", 1)[0]
    reg_part = html.split("id=regressions", 1)[1].split("id=resolved", 1)[0]
    assert "LOCAL-2" in new_part and "Reserve stock per SKU" in new_part and "Fay" in new_part
    assert short in reg_part and "regressed" in reg_part
    status, page = collector.request("GET", f"/issues/{new['id']}/", token=None)
    page = page.decode()
    assert status == 200 and c_stock[:12] in page and "fay@shop.test" in page

    # ... and so do they in a browser (screenshots kept under test-artifacts/)
    browser = Browser(str(repo.path.parent / "chromium-profile"))
    for url, name in (
        (f"{collector.url}/releases/1.2/", "release-health-1.2.png"),
        (f"{collector.url}/releases/1.1/", "release-health-1.1.png"),
        (f"{collector.url}/issues/{short}/", "issue-regressed.png"),
        (f"{collector.url}/issues/LOCAL-2/", "issue-suspect.png"),
    ):
        assert os.path.getsize(browser.screenshot(url, name)) > 5000
    dom = browser.dom(f"{collector.url}/releases/1.1/")
    assert "dee@shop.test" in dom and "sent" in dom and "BILLING-3" in dom
    dom = browser.dom(f"{collector.url}/issues/{short}/")
    assert "regressed" in dom and c_back[:12] in dom and "Gus" in dom

    # -- bad input --------------------------------------------------------------------------
    assert collector.request("GET", "/api/0/issues/999/")[0] == 404
    assert collector.request("GET", "/api/0/issues/NOPE-1/events/")[0] == 404
    status, body = collector.request(
        "PUT",
        f"/api/0/issues/{short}/",
        {"status": "resolved", "statusDetails": {"inRelease": "9.9"}},
    )
    assert status == 400 and "'9.9'" in body["detail"]
