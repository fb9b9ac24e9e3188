#!/usr/bin/env python3
"""Checks of docker-compose.yml, .env.example and charts/pgward that need no docker daemon and no helm.

Called by scripts/check-deploy.sh (which also runs hadolint, and helm when it is on PATH):

  check_deploy.py compose             docker-compose.yml against the Compose Specification schema, and
                                      its references (services, volumes, ${VARS}) against .env.example
  check_deploy.py chart               charts/pgward: YAML of the non-template files, values.yaml against
                                      values.schema.json, every value documented, every .Values path the
                                      templates use present in values.yaml, defines and blocks balanced
  check_deploy.py rendered FILE       the output of `helm template`: YAML documents with the expected kinds

Prints one line per check; exits 1 on any finding.
"""

import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "charts" / "pgward"
# The Compose Specification JSON schema as shipped by the npm package dclint 3.1.0
# (package/schemas/compose.schema.json, MIT; the schema itself is compose-spec's, Apache-2.0).
COMPOSE_SCHEMA = REPO / "tests" / "deploy" / "compose-spec.schema.json"

findings: list[str] = []


def ok(msg: str) -> None:
    print(f"  ok   {msg}")


def bad(msg: str) -> None:
    print(f"  FAIL {msg}")
    findings.append(msg)


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""


def _no_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def load_yaml(path: Path, all_docs: bool = False):
    try:
        text = path.read_text()
        data = list(yaml.load_all(text, Loader=StrictLoader)) if all_docs else yaml.load(text, Loader=StrictLoader)
    except (OSError, yaml.YAMLError) as e:
        bad(f"{path.relative_to(REPO)}: not valid YAML: {e}")
        return None
    ok(f"{path.relative_to(REPO)}: valid YAML (no duplicate keys)")
    return data


def validate(instance, schema, what: str) -> None:
    # Both schemas are draft-07 (compose-spec names it by an https URL jsonschema does not know).
    cls = jsonschema.Draft7Validator
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            bad(f"{what}: {where}: {e.message}")
    else:
        ok(f"{what}: valid")


# --- compose ---------------------------------------------------------------------------------------
def env_example() -> dict[str, str]:
    values = {}
    for n, line in enumerate((REPO / ".env.example").read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if not m:
            bad(f".env.example:{n}: not NAME=value: {line}")
            continue
        values[m.group(1)] = m.group(2)
    return values


def check_compose() -> None:
    path = REPO / "docker-compose.yml"
    doc = load_yaml(path)
    if doc is None:
        return
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validate(doc, schema, "docker-compose.yml against the Compose Specification schema (dclint 3.1.0)")

    services = doc.get("services") or {}
    declared_volumes = set((doc.get("volumes") or {}).keys())
    for name, svc in services.items():
        if "image" not in svc and "build" not in svc:
            bad(f"service {name}: neither image nor build")
        image = svc.get("image", "")
        if "build" not in svc and (":" not in image or image.endswith(":latest")):
            bad(f"service {name}: image {image!r} has no pinned tag")
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                bad(f"service {name}: depends_on unknown service {dep}")
        for v in svc.get("volumes") or []:
            src = v.split(":", 1)[0] if isinstance(v, str) else v.get("source", "")
            if src and not src.startswith((".", "/", "~")) and src not in declared_volumes:
                bad(f"service {name}: volume {src} is not declared under volumes:")
        if name in ("catalog", "minio", "pgward") and "healthcheck" not in svc:
            bad(f"service {name}: no healthcheck")
    ok(f"services {', '.join(services)}: images pinned, depends_on and named volumes resolve")

    # What holds data is on a named volume.
    mounts = {
        "catalog": "/var/lib/postgresql/data",
        "minio": "/data",
        "pgward": "/data",
    }
    for svc, target in mounts.items():
        vols = [v for v in services.get(svc, {}).get("volumes") or [] if isinstance(v, str)]
        if not any(v.split(":")[1] == target and v.split(":")[0] in declared_volumes for v in vols):
            bad(f"service {svc}: {target} is not on a named volume")
    ok("catalog, MinIO and pgward data are on named volumes")

    pg = services.get("pgward", {})
    if pg.get("env_file") not in (".env", [".env"]):
        bad("service pgward: env_file is not .env")
    deps = pg.get("depends_on") or {}
    if (deps.get("minio-init") or {}).get("condition") != "service_completed_successfully":
        bad("service pgward: does not wait for minio-init to complete")
    if (deps.get("catalog") or {}).get("condition") != "service_healthy":
        bad("service pgward: does not wait for a healthy catalog")
    ok("pgward: env_file .env, waits for a healthy catalog and a completed bucket setup")

    # Every ${VAR} compose interpolates, and the secrets key, is in .env.example, without a real secret.
    env = env_example()
    text = path.read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    for var in sorted(used | {"PGWARD_SECRETS__KEY"}):
        if var not in env:
            bad(f".env.example: {var} is missing (docker-compose.yml needs it)")
    for var, value in env.items():
        if re.search(r"(KEY|PASSWORD|SECRET)", var) and not var.endswith("ACCESS_KEY") and value:
            bad(f".env.example: {var} has a value: secrets must be left empty there")
    ok(f".env.example: defines {', '.join(sorted(used | {'PGWARD_SECRETS__KEY'}))}; secret values left empty")
    for ignore in (".gitignore", ".dockerignore"):
        if ".env" not in (REPO / ignore).read_text().split():
            bad(f"{ignore}: .env is not ignored")
    ok(".env is in .gitignore and .dockerignore")


# --- chart -----------------------------------------------------------------------------------------
def check_documented(values_path: Path) -> None:
    """Every key in values.yaml has a comment on the line(s) above it or at its end."""
    lines = values_path.read_text().splitlines()
    missing = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(- )?([A-Za-z0-9_.-]+):(\s|$)", line)
        if not m or m.group(2):
            continue
        prev = lines[i - 1].strip() if i > 0 else ""
        if "#" in line.split(":", 1)[1] or prev.startswith("#"):
            continue
        missing.append(f"{i + 1}: {line.strip()}")
    if missing:
        for m in missing:
            bad(f"values.yaml:{m}: no comment documents this value")
    else:
        ok("values.yaml: every value has a comment")


def has_path(values, path: list[str]) -> bool:
    cur = values
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return False
        cur = cur[p]
    return True


def check_chart() -> None:
    for f in sorted(CHART.rglob("*")):
        if f.is_file() and f.suffix in (".yaml", ".yml") and "templates" not in f.parts:
            load_yaml(f)
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    for key in ("apiVersion", "name", "version", "appVersion"):
        if not chart.get(key):
            bad(f"Chart.yaml: {key} missing")
    if chart.get("apiVersion") != "v2":
        bad("Chart.yaml: apiVersion is not v2")
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", str(chart.get("version", ""))):
        bad("Chart.yaml: version is not SemVer")
    if chart.get("name") != CHART.name:
        bad("Chart.yaml: name differs from the chart directory")
    ok("Chart.yaml: apiVersion v2, name, SemVer version, appVersion")

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    validate(values, schema, "values.yaml against values.schema.json")
    # The schema also accepts what an install sets (and refuses what it must).
    good = json.loads(json.dumps(values))
    good["secrets"]["existingSecret"] = "pgward-secrets"
    good["catalog"]["url"] = "postgres://pgward:pw@db:5432/pgward"
    good["worker"]["enabled"] = True
    validate(good, schema, "values with existingSecret, catalog.url and workers")
    for what, mutate in (
        ("a misspelt key", lambda v: v.__setitem__("replica", 2)),
        ("root pods", lambda v: v["podSecurityContext"].__setitem__("runAsNonRoot", False)),
        ("a malformed secrets key", lambda v: v["secrets"].__setitem__("key", "not-base64")),
    ):
        v = json.loads(json.dumps(values))
        mutate(v)
        if not list(jsonschema.Draft7Validator(schema).iter_errors(v)):
            bad(f"values.schema.json accepts {what}")
    ok("values.schema.json refuses a misspelt key, root pods and a malformed secrets key")
    check_documented(CHART / "values.yaml")

    templates = sorted((CHART / "templates").glob("*"))
    defines = set()
    for t in templates:
        defines |= set(re.findall(r'\{\{-?\s*define\s+"([^"]+)"', t.read_text()))
    refs = 0
    for t in templates:
        text = t.read_text()
        rel = t.relative_to(REPO)
        for path in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text):
            refs += 1
            if not has_path(values, path.strip(".").split(".")):
                bad(f"{rel}: .Values{path} is not in values.yaml")
        for name in re.findall(r'(?:include|template)\s+"([^"]+)"', text):
            if name not in defines:
                bad(f"{rel}: include of undefined template {name!r}")
        actions = re.findall(r"\{\{-?\s*(if|with|range|define|end)\b", text)
        depth = 0
        for a in actions:
            depth += -1 if a == "end" else 1
            if depth < 0:
                break
        if depth != 0:
            bad(f"{rel}: unbalanced if/with/range/define and end")
    ok(f"templates: {refs} .Values references all exist in values.yaml; includes defined; blocks balanced")
    names = {t.name for t in templates}
    for need in ("_helpers.tpl", "NOTES.txt", "deployment.yaml", "worker-deployment.yaml", "secret.yaml",
                 "pvc.yaml", "service.yaml", "ingress.yaml"):
        if need not in names:
            bad(f"templates/{need} missing")
    ok("templates: helpers, NOTES, serve and worker Deployments, Secret, PVC, Service, Ingress present")


def check_rendered(path: Path) -> None:
    docs = [d for d in (load_yaml(path, all_docs=True) or []) if d]
    kinds = sorted(f"{d.get('kind')}/{d.get('metadata', {}).get('name')}" for d in docs)
    for d in docs:
        if not d.get("apiVersion") or not d.get("kind") or not d.get("metadata", {}).get("name"):
            bad(f"rendered: a document without apiVersion, kind or name: {str(d)[:120]}")
        if d.get("kind") == "Deployment":
            spec = d["spec"]["template"]["spec"]
            if not spec.get("securityContext", {}).get("runAsNonRoot"):
                bad(f"rendered: {d['metadata']['name']}: pods may run as root")
            for c in spec["containers"]:
                sc = c.get("securityContext", {})
                if not sc.get("readOnlyRootFilesystem") or "ALL" not in sc.get("capabilities", {}).get("drop", []):
                    bad(f"rendered: {c['name']}: root filesystem writable or capabilities kept")
    ok(f"rendered: {', '.join(kinds)}")


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "compose":
        check_compose()
    elif what == "chart":
        check_chart()
    elif what == "rendered" and len(sys.argv) == 3:
        check_rendered(Path(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
