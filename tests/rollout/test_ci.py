"""The generated GitHub workflows: fresh in the repository, the PR review as one comment, the waves as jobs with
their GitHub environments, OIDC, and a concurrency group per stack."""
from __future__ import annotations

import shutil

import yaml

from blueprint import cli
from blueprint.rollout import ci
from blueprint.ship.markdown import MARKER
from tests.conftest import ROOT


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_the_committed_workflows_are_fresh():
    assert cli.main(["--root", str(ROOT), "ci", "github", "--check"]) == 0


def test_a_stale_workflow_fails_the_check(project, capsys):
    shutil.copy(ROOT / "rollout.yaml", project / "rollout.yaml")
    assert cli.main(["--root", str(project), "ci", "github", "--check"]) == 1
    assert "run `make ci`" in capsys.readouterr().err
    assert cli.main(["--root", str(project), "ci", "github"]) == 0
    assert cli.main(["--root", str(project), "ci", "github", "--check"]) == 0
    (project / "rollout.yaml").write_text((project / "rollout.yaml").read_text().replace("max_parallel: 1",
                                                                                        "max_parallel: 2"))
    assert cli.main(["--root", str(project), "ci", "github", "--check"]) == 1


def test_the_pull_request_workflow_reviews_every_environment_in_one_comment():
    pr = load(ci.PR_FILE)
    assert list(pr[True]) == ["pull_request"]  # YAML 1.1 reads the key `on` as true
    steps = [s.get("run", "") for s in pr["jobs"]["check"]["steps"]]
    assert "make validate" in steps and "make lint" in steps and "make actionlint-install" not in steps
    review = pr["jobs"]["review"]
    assert review["permissions"]["id-token"] == "write"
    assert [row["env"] for row in review["strategy"]["matrix"]["include"]] == ["dev", "prod", "staging"]
    assert all(row["role"].endswith(":role/blueprint-changeset") for row in review["strategy"]["matrix"]["include"])
    # Its own group, per pull request: a push never cancels main's deploy waiting in the stack's group.
    assert review["concurrency"] == {"group": "blueprint-review-${{ matrix.stack }}-${{ github.event.pull_request.number }}",
                                     "cancel-in-progress": True}
    assert any("--output markdown" in s.get("run", "") for s in review["steps"])
    # The deploy roles hold no rights of their own: the change set carries the account's CloudFormation role.
    assert any('--role-arn "${{ matrix.service_role }}"' in s.get("run", "") for s in review["steps"])
    assert all(row["service_role"].endswith(":role/blueprint-cloudformation")
               for row in review["strategy"]["matrix"]["include"])
    comment = pr["jobs"]["comment"]
    script = comment["steps"][-1]["run"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert MARKER in script and "--method PATCH" in script and "--method POST" in script


def test_the_main_workflow_runs_the_waves_in_order_with_environments_oidc_and_a_group_per_stack():
    main = load(ci.MAIN_FILE)
    assert main[True] == {"push": {"branches": ["main"]}}
    assert main["permissions"]["id-token"] == "write"
    jobs = main["jobs"]
    assert list(jobs) == ["wave-dev", "wave-staging", "wave-prod"]
    assert "needs" not in jobs["wave-dev"]
    assert jobs["wave-staging"]["needs"] == "wave-dev" and jobs["wave-prod"]["needs"] == "wave-staging"
    prod = jobs["wave-prod"]
    assert prod["environment"] == "${{ matrix.env }}"
    assert prod["strategy"]["max-parallel"] == 1 and prod["strategy"]["fail-fast"] is True
    (row,) = prod["strategy"]["matrix"]["include"]
    assert row == {"env": "prod", "stack": "items-prod", "region": "us-east-1",
                   "role": "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:role/blueprint-deploy-prod"}
    assert prod["concurrency"] == {"group": "blueprint-deploy-${{ matrix.stack }}", "cancel-in-progress": False}
    run = " ".join(s.get("run", "") for s in prod["steps"])
    assert "rollout --target aws --wave prod --env \"$ENV_NAME\" --reviewed" in run
    assert "gh run download" in run  # the change set the pull request reviewed


def test_a_waves_job_keeps_its_credentials_through_the_watch_for_the_next_waves_gate():
    """staging's job deploys, then watches its alarms for prod's 10-minute gate: its OIDC credentials must last
    the deploy's hour plus those minutes (GitHub's default is 1 h), within the deploy role's MaxSessionDuration."""
    from blueprint.cfn import loader

    jobs = load(ci.MAIN_FILE)["jobs"]

    def seconds(job: str) -> int:
        (step,) = [s for s in jobs[job]["steps"] if "configure-aws-credentials" in s.get("uses", "")]
        return step["with"]["role-duration-seconds"]

    assert (seconds("wave-dev"), seconds("wave-staging"), seconds("wave-prod")) == (3600, 3600 + 600, 3600)
    account = loader.loads((ROOT / "generated" / "account" / "template.yaml").read_text())["Resources"]
    for env in ("dev", "staging", "prod"):
        assert account[f"DeployRole{env.capitalize()}"]["Properties"]["MaxSessionDuration"] == ci.MAX_SESSION_S
    assert ci.deploy_seconds(180) == ci.MAX_SESSION_S  # the schema's longest gate fits
