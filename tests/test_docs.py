"""The README's tables follow the code: every variable the settings read is in the
environment table (and every one there is read somewhere), the process table is the
Procfile's, and the `<POOL>` list names every worker pool of the Procfile. The project is
self-contained: no tracked file points to the founders' notes outside the repository, and
every relative link of README.md and docs/*.md reaches a file that exists."""

import re
import subprocess

import pytest

from devtools.processes import ROOT, procfile

README = (ROOT / "README.md").read_text()
NAME = re.compile(r"`([A-Z][A-Z0-9_]*[A-Z0-9])`")


def section(title):
    """The README's text under `## title`, up to the next heading of that level."""
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def table_rows(text):
    """The cells of each row of the first markdown table in `text`, header excluded."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def environment_table():
    """{variable: meaning} of the README's environment table (a row may name several)."""
    table = {}
    for cells in table_rows(section("Environment variables")):
        for name in NAME.findall(cells[0]):
            table[name] = cells[-1]
    return table


def settings_reads():
    """Every NAME of an `env.<cast>("NAME"` in the settings and the Celery config."""
    source = "".join((ROOT / f).read_text() for f in ("propmgmt/settings.py", "celeryconfig.py"))
    return set(re.findall(r"env\.\w+\(\s*\"([A-Z0-9_]+)\"", source))


def test_the_scan_finds_what_it_looks_for():
    assert {"SECRET_KEY", "DATABASE_URL", "TOKEN_TTL"} <= settings_reads()
    assert {"DEBUG", "WEB_WORKERS", "TEST_BROKER_VHOST"} <= set(environment_table())


def test_every_variable_the_settings_read_is_in_the_environment_table():
    missing = settings_reads() - set(environment_table())
    assert not missing, f"read in settings but not in README's table: {sorted(missing)}"


def test_every_variable_in_the_environment_table_is_read_somewhere():
    readers = ("propmgmt/*.py", "*.py", "apps/**/*.py", "tests/settings.py", "Procfile")
    code = "".join(path.read_text() for pattern in readers for path in ROOT.glob(pattern))
    unread = {name for name in environment_table() if name not in code}
    assert not unread, f"in README's table but read nowhere: {sorted(unread)}"


def test_the_process_table_is_the_procfile():
    names = [NAME.sub(r"\1", cells[0]) for cells in table_rows(section("Processes"))]
    assert names == list(procfile())


def test_the_pool_list_names_every_worker_pool_of_the_procfile():
    pools = set(re.findall(r"\$\{WORKER_([A-Z_]+?)_POOL:", "\n".join(procfile().values())))
    [row] = [c for c in table_rows(section("Environment variables")) if "`<POOL>` =" in c[-1]]
    listed = set(NAME.findall(row[-1].split("`<POOL>` =", 1)[1]))
    assert pools and listed == pools, f"README lists {sorted(listed)}, Procfile {sorted(pools)}"


# --- the project is self-contained: no pointer outside the repository, no dead link ----
# Spelled in pieces so that this file does not name what it forbids.
OUTSIDE_POINTERS = ("../" + "shared", "shared/" + "DESIGN.md")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def tracked_files():
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def outside_pointers(paths):
    """(file, what it names) for every file naming the founders' notes outside the repo."""
    found = []
    for path in paths:
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [(path, pointer) for pointer in OUTSIDE_POINTERS if pointer in text]
    return found


def dead_links(markdown_file):
    """The relative links of a markdown file (code blocks aside) whose file is missing."""
    text = FENCED_BLOCK.sub("", markdown_file.read_text())
    dead = []
    for target in MARKDOWN_LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or an anchor in the same file
        if not (markdown_file.parent / target.split("#", 1)[0]).exists():
            dead.append(target)
    return dead


def test_the_checks_find_what_they_look_for(tmp_path):
    pointing = tmp_path / "notes.py"
    pointing.write_text(f"# see {OUTSIDE_POINTERS[1]}\n")
    assert outside_pointers([pointing]) == [(pointing, OUTSIDE_POINTERS[1])]
    (tmp_path / "there.md").write_text("")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#top) [gone](missing.md) [web](https://example.org) [here](#x)\n"
        "```\n[in code](nowhere.md)\n```\n"
    )
    assert dead_links(page) == ["missing.md"]
    assert ROOT / "README.md" in tracked_files()


def test_no_tracked_file_points_outside_the_repository():
    found = outside_pointers(tracked_files())
    named = [f"{path.relative_to(ROOT)}: {pointer}" for path, pointer in found]
    assert not named, f"files pointing outside the repository: {named}"


@pytest.mark.parametrize(
    "markdown", ["README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md")))]
)
def test_every_relative_markdown_link_points_to_a_file_that_exists(markdown):
    assert not dead_links(ROOT / markdown), f"{markdown}: dead links {dead_links(ROOT / markdown)}"
