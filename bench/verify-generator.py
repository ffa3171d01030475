#!/usr/bin/env python3
"""Checks that gen-ledger writes records byte for byte as the real tool does.

Replays finished deployments of a generated ledger with the release binary
(start, check, phase, check, phase, check, finish, under DEPLOY_LEDGER_NOW
and the GitHub Actions variables of the record) in a scratch repository, and
compares every version of the record with the generated history, the commit
id aside (the scratch repository has its own).

    python3 bench/verify-generator.py bench/out/ledger-1000-s42 [COUNT]
"""

import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "deploy-ledger")


def git(repo, *args):
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def field(text, key):
    m = re.search(r"^%s: (.*)$" % key, text, re.M)
    return m.group(1) if m else None


def flow(text, key):
    """The items of a one-line flow map `key: { a: 1, b: x }`."""
    value = field(text, key)
    if not value:
        return {}
    items = dict(kv.split(": ", 1) for kv in value.strip("{} ").split(", "))
    return {k: json.loads(v) if v.startswith('"') else v for k, v in items.items()}


def replay(generated, path):
    commits = git(generated, "log", "--format=%H", "--", path).split()[::-1]
    versions = [git(generated, "show", "%s:%s" % (c, path)) for c in commits]
    final = versions[-1]
    status = field(final, "status")
    if len(versions) != 4 or status not in ("success", "failed", "cancelled"):
        return None  # in progress, or rolled back (not a `finish` outcome)
    phases = re.findall(r"started_at: ([^,\s]+), finished_at: ([^,\s]+)", final)
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        os.makedirs(os.path.join(repo, "deployments"))
        git(repo, "init", "-q", "-b", "main")
        git(repo, "remote", "add", "origin", flow(final, "git")["remote"])
        env = {
            "PATH": os.environ["PATH"],
            "HOME": tmp,
            "XDG_CONFIG_HOME": os.path.join(tmp, "xdg"),
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "x",
            "GIT_AUTHOR_EMAIL": "x@example.com",
            "GIT_COMMITTER_NAME": "x",
            "GIT_COMMITTER_EMAIL": "x@example.com",
        }
        with open(os.path.join(repo, "README.md"), "w") as f:
            f.write("x\n")
        subprocess.run(["git", "-C", repo, "add", "."], check=True, env=env)
        subprocess.run(["git", "-C", repo, "commit", "-q", "-m", "x"], check=True, env=env)
        head = git(repo, "rev-parse", "HEAD").strip()
        ci = flow(final, "ci")
        if ci:
            env.update(
                GITHUB_ACTIONS="true",
                GITHUB_RUN_ID=ci["run_id"],
                GITHUB_SERVER_URL="https://github.com",
                GITHUB_REPOSITORY="example/shop",
                GITHUB_ACTOR=ci["actor"],
                GITHUB_WORKFLOW=ci["workflow"],
                GITHUB_REF_NAME="main",
            )

        def run(now, *args):
            out = subprocess.run(
                [BIN, *args], cwd=repo, capture_output=True, text=True,
                env=dict(env, DEPLOY_LEDGER_NOW=now),
            )
            if out.returncode != 0:
                sys.exit("%s: deploy-ledger %s: %s" % (path, " ".join(args), out.stderr))

        change = flow(final, "change")
        start = ["start", "--service", field(final, "service"),
                 "--env", field(final, "environment"),
                 "--version", field(final, "version"),
                 "--strategy", field(final, "strategy"),
                 "--operator", field(final, "operator")]
        if change:
            start += ["--change-id", change["id"], "--change-type", change["type"],
                      "--risk", change["risk"]]
        for k, v in flow(final, "labels").items():
            start += ["--label", "%s=%s" % (k, v)]
        run(field(final, "started_at"), *start)
        rel = path
        old = flow(final, "git")["commit"]

        def same(n):
            want = versions[n].replace(old, head).replace(old[:12], head[:12])
            want = want.replace(old[:7], head[:7])
            with open(os.path.join(repo, rel)) as f:
                got = f.read()
            if got != want:
                sys.stderr.write("MISMATCH %s version %d\n--- generated\n%s\n--- tool\n%s\n"
                                 % (path, n, want, got))
                return False
            return True

        ok = same(0)
        done = re.findall(r"^- \[x\]", final, re.M)
        for step, name in ((1, "execution"), (2, "validation")):
            for n in range(3 * (step - 1) + 1, 3 * step + 1):
                run(phases[step][0], "check", str(n))
            run(phases[step][0], "phase", name)
            ok = same(step) and ok
        ticked = len(done) - 6
        for n in range(7, 7 + ticked):
            run(phases[2][1], "check", str(n))
        finish = ["finish", "--status", status]
        reason = flow(final, "failure").get("reason")
        if reason:
            finish += ["--reason", reason]
        run(phases[2][1], *finish)
        return same(3) and ok


def main():
    generated = sys.argv[1]
    want = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    paths = sorted(git(generated, "ls-files", "deployments/checklists").split())
    checked = failed = 0
    for path in paths:
        if checked >= want:
            break
        result = replay(generated, path)
        if result is None:
            continue
        checked += 1
        failed += not result
    print("verify-generator: %d records replayed, %d differ" % (checked, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
