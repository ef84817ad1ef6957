"""The image recipes of the docs work as written: the README's Dockerfile excerpt is
docker/example-space/Dockerfile's (same stages, same HEALTHCHECK), every path to the
binary is /usr/local/bin/hfinit, and `scripts/dockerd-test env` prints a line that
`eval` exports."""

import os
import re
import subprocess

from docker_fixtures import REPO

DOCKERFILE = REPO / "docker" / "example-space" / "Dockerfile"


def dockerfile_blocks(markdown):
    return re.findall(r"```dockerfile\n(.*?)```", markdown, re.S)


def instructions(text):
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", text)
    out = []
    for ln in text.splitlines():
        ln = re.sub(r"\s+#.*$", "", ln).strip()
        if ln and not ln.startswith("#"):
            out.append(re.sub(r"\s+", " ", ln))
    return out


def test_readme_dockerfile_is_the_example_dockerfile():
    readme = (REPO / "README.md").read_text()
    real = instructions(DOCKERFILE.read_text())
    blocks = dockerfile_blocks(readme[readme.index("## In an image"):readme.index("## Modes")])
    assert blocks
    for block in blocks:
        lines = instructions(block)
        stages = {m.group(1) for ln in lines if (m := re.match(r"FROM \S+ AS (\S+)$", ln))}
        for ln in lines:
            m = re.match(r"COPY --from=(\S+)", ln)
            assert not m or m.group(1) in stages, f"{ln}: no stage {m.group(1)} in the block"
            assert ln in real, f"README line not in {DOCKERFILE.relative_to(REPO)}: {ln}"
    hc = [ln for ln in real if ln.startswith("HEALTHCHECK")]
    assert hc == ["HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 "
                  'CMD ["/usr/local/bin/hfinit", "health", "--ready"]']
    assert 'ENTRYPOINT ["/usr/local/bin/hfinit"]' in real


def test_docs_name_one_path_for_the_binary():
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")),
                 REPO / "docker" / "kubernetes" / "deployment.yaml"]:
        text = path.read_text()
        assert "/sbin/hfinit" not in text, path
    status = (REPO / "docs" / "status.md").read_text()
    healthchecks = [ln for blk in dockerfile_blocks(status) for ln in instructions(blk)
                    if ln.startswith("HEALTHCHECK")]
    assert healthchecks and all("/usr/local/bin/hfinit" in ln for ln in healthchecks)


def test_dockerd_test_env_is_an_export(tmp_path):
    r = subprocess.run([str(REPO / "scripts" / "dockerd-test"), "env", str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == f"export DOCKER_HOST=unix://{tmp_path}/docker.sock\n"
    r = subprocess.run(["bash", "-c", f'eval "$({REPO}/scripts/dockerd-test env {tmp_path})"; '
                        'bash -c \'echo "$DOCKER_HOST"\''], capture_output=True, text=True,
                       timeout=30, env={k: v for k, v in os.environ.items() if k != "DOCKER_HOST"})
    assert r.stdout == f"unix://{tmp_path}/docker.sock\n", r.stderr
