"""Real git repositories for the CLI tests, made with the git binary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Optional

BASE_TIME = 1_700_000_000


def git_env(home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


class GitRepo:
    """A work tree with helpers to commit files with fixed identities and dates."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.home = home
        self.env = git_env(home)
        self.ticks = 0

    def git(self, *args: str, env: Optional[Dict[str, str]] = None) -> str:
        res = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode:
            raise AssertionError(f"git {' '.join(args)} failed: {res.stderr}")
        return res.stdout

    @classmethod
    def init(cls, path: Path, home: Path, remote: Optional[str] = None) -> "GitRepo":
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, home)
        repo.git("init", "-q", "-b", "main")
        repo.git("config", "user.name", "Ada Lovelace")
        repo.git("config", "user.email", "ada@example.com")
        repo.git("config", "commit.gpgsign", "false")
        if remote:
            repo.git("remote", "add", "origin", remote)
        return repo

    def write(self, name: str, text: str) -> None:
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def commit(self, message: str, tz: str = "+0000") -> str:
        self.ticks += 1
        env = dict(self.env)
        stamp = f"{BASE_TIME + self.ticks * 60} {tz}"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()
