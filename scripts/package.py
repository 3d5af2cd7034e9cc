"""``make package``: a stage's deployment artifacts, built offline, and their checks.

    python -m scripts.package [--stage dev] [--out dist/dev]

What it writes into ``--out`` (what ``sam deploy`` or ``aws cloudformation package/deploy`` takes):

* ``template.json``: Chalice's own SAM template (``chalice package``) merged with
  ``infra/resources.json`` and this stage's wiring (``--merge-template``): each function's
  package, runtime and role, the stream triggers on the tables' streams, partial-batch answers on
  the queue consumers.
* one zip per **package**. Chalice zips every function with every requirement; with DuckDB, numpy,
  scipy, the Firebase SDK and botocore that is more than Lambda's 250 MB unzipped, so the functions
  are split by what they import (``PACKAGES``): the API and most workers go without scipy and the
  Firebase SDK, the push sender without scipy and DuckDB, and the weekly fit, the only user of scipy,
  carries it compressed (``chalicelib/archives.py`` unpacks it into ``/tmp`` on first use) and goes
  without the Firebase SDK. Only the AWS services the functions call keep their botocore models.

The requirements are the pinned ``requirements.txt``, resolved by pip for the Lambda runtime
(``RUNTIME``, Amazon Linux 2023: numpy, scipy and DuckDB have no wheel old enough for the glibc of
python3.11's Amazon Linux 2) from the package registry, nothing else. Modules are compiled for the
runtime (unchecked-hash ``.pyc``: Lambda's code folder is read-only, so a package without them
compiles every module it imports on every cold start).

Checks, each failing the command: cfn-lint on the merged template, each package against Lambda's
size limits (50 MB zipped, 250 MB unzipped), and each package's entry point imported in a bare
interpreter of the runtime's version (no site-packages) with the stage's environment: a package
missing what its functions import fails here, not on AWS. The cold import times are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts import infra_template

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = "python3.12"
PYTHON_VERSION = RUNTIME.removeprefix("python")
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
#: The AWS services the functions call (botocore's models of the 400 others are 25 MB unpacked,
#: a third of what the API's package would upload): the import check creates a client of each.
BOTOCORE_SERVICES = ("dynamodb", "dynamodbstreams", "sqs", "secretsmanager", "lambda")
#: The app's own code, beside the dependencies in every package.
APP_CODE = ("app.py", "chalicelib")


@dataclass(frozen=True)
class Package:
    name: str
    #: Chalice's function names (``api_handler``: the API); None: every function no other package has.
    functions: frozenset[str] | None
    #: Requirements left out, with whatever only they need.
    without: tuple[str, ...] = ()
    #: Requirements shipped as one compressed archive, unpacked into /tmp on first use.
    archived: tuple[str, ...] = ()


PACKAGES = (
    Package("app", None, without=("scipy", "firebase-admin")),
    Package("push", frozenset({"push_messages", "queue_pushes"}), without=("scipy", "duckdb")),
    Package("fit", frozenset({"fit_predictor_weekly"}), without=("firebase-admin",), archived=("scipy",)),
)


def package_of(function: str) -> Package:
    for package in PACKAGES:
        if package.functions is not None and function in package.functions:
            return package
    return next(p for p in PACKAGES if p.functions is None)


# -- the stage's environment at package time ----------------------------------------------------

#: What ``import app`` needs to see to declare every function (the stream triggers are declared
#: only when their stream is known): placeholders that the merged template replaces with the
#: tables' real stream ARNs (``wiring``).
STREAM_VARIABLES = {
    "LOYALTY_LEDGER_STREAM_ARN": "LedgerTable",
    "LOYALTY_INBOX_STREAM_ARN": "InboxTable",
    "LOYALTY_MEMBERS_STREAM_ARN": "MembersTable",
    "LOYALTY_PURCHASES_STREAM_ARN": "PurchasesTable",
}


def stage_variables(stage: str) -> dict[str, str]:
    """The stage's environment as ``.chalice/config.json`` gives it to every function."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def package_environment(stage: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOYALTY_", "AWS_", "PYDANTIC_"))}
    env.update(stage_variables(stage))
    env.update(
        {
            "AWS_DEFAULT_REGION": "eu-central-1",
            "LOYALTY_CARD_SECRET": "package-time-placeholder",
            "LOYALTY_CURSOR_SECRET": "package-time-placeholder",
            "LOYALTY_COGNITO_ISSUER": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_placeholder",
            "LOYALTY_COGNITO_CLIENT_IDS": "placeholder",
        }
    )
    for variable, table in STREAM_VARIABLES.items():
        env[variable] = f"arn:aws:dynamodb:eu-central-1:000000000000:table/{table}/stream/placeholder"
    return env


# -- the template --------------------------------------------------------------------------------


def chalice_package(project: Path, stage: str, out: Path, merge: Path | None) -> dict[str, Any]:
    command = [str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage]
    if merge is not None:
        command += ["--merge-template", str(merge)]
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([*command, str(out)], cwd=project, env=package_environment(stage), check=True)
    return json.loads((out / "sam.json").read_text())


#: How many consumers each queue may run at once (the event source's MaximumConcurrency): the
#: queues absorb a campaign's burst, DynamoDB on-demand takes a steady pace.
QUEUE_CONCURRENCY = {"contacts": 20, "push": 20, "webhooks": 10}
#: A stream batch that fails is retried this often (halved around the failing record each time)
#: before its records are set aside in the stream failures queue.
STREAM_RETRIES = 5
#: How long a stream trigger gathers records before it runs (snapshot freshness vs files per hour).
STREAM_WINDOW_S = 60


def globals_section() -> dict[str, Any]:
    """What every function's environment has on AWS (SAM merges it with Chalice's per function)."""
    variables: dict[str, Any] = {var: {"Fn::GetAtt": [table, "StreamArn"]} for var, table in STREAM_VARIABLES.items()}
    variables |= {
        "LOYALTY_SECRETS_ARN": {"Ref": "AppSecret"},
        "LOYALTY_COGNITO_ISSUER": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"},
        "LOYALTY_COGNITO_CLIENT_IDS": {"Ref": "UserPoolClient"},
        "LOYALTY_FCM_PROJECT": {"Ref": "FirebaseProjectId"},
        "LOYALTY_FCM_CREDENTIALS_SECRET_ARN": {"Ref": "FirebaseSecret"},
        "LOYALTY_SNAPSHOT_BUCKET": {"Ref": "SnapshotBucket"},
    }
    return {"Function": {"Environment": {"Variables": variables}}}


def wiring(chalice_template: dict[str, Any]) -> dict[str, Any]:
    """What the merged template adds to each of Chalice's functions, and to its API."""
    granted = infra_template.permissions()
    resources: dict[str, Any] = {"RestAPI": {"Properties": {"Name": {"Fn::Sub": "loyalty-${Stage}-api"}}}}
    functions = set()
    for logical, resource in chalice_template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        function = _function_name(resource)
        functions.add(function)
        if function not in granted:
            raise SystemExit(f"{function} has no permissions in infra/permissions.json")
        properties: dict[str, Any] = {
            "CodeUri": f"./{package_of(function).name}.zip",
            "Runtime": RUNTIME,
            "Role": {"Fn::GetAtt": [infra_template.logical(function, "Role"), "Arn"]},
            "LoggingConfig": {"LogGroup": {"Ref": infra_template.logical(function, "LogGroup")}},
        }
        events: dict[str, Any] = {}
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "DynamoDB":
                table = _stream_table(event["Properties"]["Stream"])
                if infra_template.logical(granted[function].get("stream", ""), "Table") != table:
                    raise SystemExit(f"infra/permissions.json: {function} reads the stream of {table}")
                events[event_name] = {
                    "Properties": {
                        "Stream": {"Fn::GetAtt": [table, "StreamArn"]},
                        "BisectBatchOnFunctionError": True,
                        "MaximumRetryAttempts": STREAM_RETRIES,
                        # Records gathered up to a minute: fewer, larger snapshot deltas to share.
                        "MaximumBatchingWindowInSeconds": STREAM_WINDOW_S,
                        "DestinationConfig": {
                            "OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailuresQueue", "Arn"]}}
                        },
                    }
                }
            elif event["Type"] == "SQS":
                short = _queue_of(event)
                if granted[function].get("consumes") != short:
                    raise SystemExit(f"infra/permissions.json: {function} consumes the {short} queue")
                events[event_name] = {
                    "Properties": {
                        # The consumers answer which messages failed; without this Lambda retries the batch.
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "ScalingConfig": {"MaximumConcurrency": QUEUE_CONCURRENCY[short]},
                    }
                }
        if events:
            properties["Events"] = events
        if function == "api_handler":  # an admin's fit runs in the fit's function (jobs.run_on_request)
            fit = next(k for k, r in chalice_template["Resources"].items() if _is_function(r, "fit_predictor_weekly"))
            properties["Environment"] = {"Variables": {"LOYALTY_FIT_FUNCTION": {"Ref": fit}}}
        resources[logical] = {"Properties": properties}
    if set(granted) - functions:
        raise SystemExit(f"infra/permissions.json names functions the app has not: {sorted(set(granted) - functions)}")
    return resources


def _queue_of(event: dict[str, Any]) -> str:
    """The short name of the queue an SQS event source reads (its ARN ends with the queue's name)."""
    from chalicelib import queues

    arn = event["Properties"]["Queue"]["Fn::Sub"]  # ...:loyalty-<stage>-<short>
    name = arn.rsplit(":", 1)[-1]
    for short in queues.QUEUES:
        if name.endswith(f"-{short}"):
            return short
    raise SystemExit(f"an SQS event source on {arn!r}, which is no queue of chalicelib/queues.py")


def _is_function(resource: dict[str, Any], name: str) -> bool:
    return resource["Type"] == "AWS::Serverless::Function" and _function_name(resource) == name


def _function_name(resource: dict[str, Any]) -> str:
    handler = resource["Properties"]["Handler"]  # app.<function>, app.app for the API
    name = handler.removeprefix("app.")
    return "api_handler" if name == "app" else name


def _stream_table(placeholder: str) -> str:
    match = re.fullmatch(r"arn:aws:dynamodb:[^:]+:\d+:table/(\w+)/stream/placeholder", placeholder)
    if match is None:
        raise SystemExit(f"a stream trigger on {placeholder!r}, which is no table of the template")
    return match.group(1)


def merged_template(project: Path, stage: str, work: Path) -> dict[str, Any]:
    first = chalice_package(project, stage, work / "chalice-first", merge=None)
    merge = json.loads((ROOT / "infra" / "resources.json").read_text())
    merge["Parameters"]["Stage"] |= {"Default": stage, "AllowedValues": [stage]}  # the names the code derives
    merge["Globals"] = globals_section()
    for logical, override in wiring(first).items():
        merge["Resources"][logical] = override
    merge_file = work / "merge.json"
    merge_file.write_text(json.dumps(merge, indent=1))
    template = chalice_package(project, stage, work / "chalice", merge=merge_file)
    return template


# -- the packages --------------------------------------------------------------------------------


def requirement_lines() -> list[str]:
    lines = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _requirement_name(line: str) -> str:
    return re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower().replace("_", "-")


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"], check=True)


def _target_options() -> list[str]:
    options = ["--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]
    for platform in PLATFORMS:
        options += ["--platform", platform]
    return options


def install(lines: list[str], target: Path, wheelhouse: Path, no_deps: bool = False) -> None:
    requirements = target.with_suffix(".txt")
    requirements.write_text("\n".join(lines) + "\n")
    options = [*_target_options(), "--no-index", "--find-links", str(wheelhouse), "--no-compile"]
    if no_deps:
        options.append("--no-deps")
    pip("install", *options, "--target", str(target), "-r", str(requirements))
    # What the functions never run: the libraries' own test suites, pip's console scripts.
    for tests in [p for p in target.glob("*/**/tests") if p.is_dir()]:
        shutil.rmtree(tests, ignore_errors=True)
    shutil.rmtree(target / "bin", ignore_errors=True)
    models = target / "botocore" / "data"
    for service in [p for p in models.iterdir() if p.is_dir()] if models.is_dir() else []:
        if service.name not in BOTOCORE_SERVICES:
            shutil.rmtree(service)


def compile_for_runtime(folder: Path, python: str) -> None:
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(folder).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                # Readable by the Lambda user whatever umask built it.
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                archive.writestr(info, path.read_bytes(), compresslevel=9)


def build_package(package: Package, chalice_zip: Path, wheelhouse: Path, work: Path, python: str) -> Path:
    folder = work / package.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(chalice_zip) as archive:  # the app's code and Chalice's runtime, as Chalice zips them
        archive.extractall(folder)
    left_out = {*package.without, *package.archived}
    install([r for r in requirement_lines() if _requirement_name(r) not in left_out], folder, wheelhouse)
    if package.archived:
        from chalicelib import archives

        staged = work / f"{package.name}-archived"
        shutil.rmtree(staged, ignore_errors=True)
        install([r for r in requirement_lines() if _requirement_name(r) in package.archived], staged, wheelhouse, True)
        compile_for_runtime(staged, python)
        (folder / archives.FOLDER).mkdir()
        zip_folder(staged, folder / archives.FOLDER / f"{'+'.join(package.archived)}.zip")
    compile_for_runtime(folder, python)
    target = work.parent / f"{package.name}.zip"
    zip_folder(folder, target)
    return target


def download_wheels(wheelhouse: Path) -> None:
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pip("download", *_target_options(), "--dest", str(wheelhouse), "-r", str(ROOT / "requirements.txt"))


# -- the checks ----------------------------------------------------------------------------------


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


IMPORT_PROBE = """
import sys, time
sys.path.insert(0, {folder!r})
started = time.perf_counter()
import app
{first_use}
print(round((time.perf_counter() - started) * 1000, 1))
import botocore.session
session = botocore.session.get_session()
for service in {services!r}:
    session.create_client(service, region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")
"""

#: What a package's functions import on first use, beyond ``import app`` (timed with it).
FIRST_USE = {
    "fit": "from chalicelib import archives; archives.unpack('scipy'); import chalicelib.domain.anticipation, duckdb",
    "push": "import firebase_admin.messaging",
}


def cold_import_ms(package: Package, folder: Path, stage: str, python: str, runs: int = 3) -> float:
    probe = IMPORT_PROBE.format(
        folder=str(folder), first_use=FIRST_USE.get(package.name, ""), services=BOTOCORE_SERVICES
    )
    env = package_environment(stage) | {"PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": tempfile.mkdtemp()}
    times = []
    for _ in range(runs):
        shutil.rmtree(env["TMPDIR"], ignore_errors=True)  # a cold Lambda's /tmp is empty
        Path(env["TMPDIR"]).mkdir()
        done = subprocess.run(
            [python, "-S", "-I", "-c", probe], cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"package {package.name}: its entry point does not import:\n{done.stderr}")
        times.append(float(done.stdout.strip().splitlines()[0]))
    return statistics.median(times)


def cfn_lint(template: Path) -> None:
    linted = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(template)], capture_output=True, text=True, check=False
    )
    if linted.returncode != 0:
        raise SystemExit(f"cfn-lint on {template}:\n{linted.stdout}{linted.stderr}")


def runtime_python() -> str:
    """An interpreter of the runtime's version, for the .pyc files and the import check."""
    candidates = [os.environ.get("LAMBDA_PYTHON", ""), shutil.which(f"python{PYTHON_VERSION}") or ""]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{PYTHON_VERSION}*/bin/python3"))
    for candidate in filter(None, candidates):
        version = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if version.returncode == 0 and version.stdout.strip() == PYTHON_VERSION:
            return candidate
    raise SystemExit(f"python{PYTHON_VERSION} is needed to compile and check the packages: set LAMBDA_PYTHON")


def project_without_requirements(work: Path) -> Path:
    """The app as Chalice sees it, with the dependencies left to this script (Chalice would zip
    them all into one package, and cannot fetch numpy's wheels for Amazon Linux 2023)."""
    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy(ROOT / "app.py", project / "app.py")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    (project / "requirements.txt").write_text("")
    return project


def build_template(stage: str, work: Path, target: Path) -> dict[str, Any]:
    """The merged template of the stage, written to ``target`` and linted."""
    template = merged_template(project_without_requirements(work), stage, work)
    target.write_text(json.dumps(template, indent=1) + "\n")
    cfn_lint(target)
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, help="default: dist/<stage>")
    parser.add_argument("--template-only", action="store_true", help="the merged template and its lint, no packages")
    args = parser.parse_args()
    out: Path = (args.out or ROOT / "dist" / args.stage).resolve()
    shutil.rmtree(out, ignore_errors=True)
    work = out / "build"
    work.mkdir(parents=True)
    wheelhouse = ROOT / "dist" / "wheelhouse"

    template_path = out / "template.json"
    template = build_template(args.stage, work, template_path)
    if args.template_only:
        shutil.rmtree(work)
        print(f"{template_path}: {len(template['Resources'])} resources, cfn-lint clean")
        return
    python = runtime_python()

    download_wheels(wheelhouse)
    rows = []
    for package in PACKAGES:
        zipped = build_package(package, work / "chalice" / "deployment.zip", wheelhouse, work, python)
        size, unzipped = zipped.stat().st_size, unzipped_size(zipped)
        functions = sorted(
            _function_name(r)
            for r in template["Resources"].values()
            if r["Type"] == "AWS::Serverless::Function" and r["Properties"]["CodeUri"] == f"./{zipped.name}"
        )
        rows.append(
            (package, size, unzipped, cold_import_ms(package, work / package.name, args.stage, python), functions)
        )
    shutil.rmtree(work)

    functions = sum(1 for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function")
    resources = len(template["Resources"])
    print(f"\n{template_path.relative_to(ROOT)}: {resources} resources, {functions} functions, cfn-lint clean")
    print(f"{'package':<9} {'zipped MB':>9} {'unzipped MB':>11} {'cold import ms':>14}  functions")
    failures = []
    for package, size, unzipped, import_ms, names in rows:
        print(f"{package.name:<9} {size / 2**20:9.1f} {unzipped / 2**20:11.1f} {import_ms:14.0f}  {', '.join(names)}")
        if unzipped > UNZIPPED_LIMIT:
            failures.append(f"{package.name}: {unzipped / 2**20:.1f} MB unzipped, over Lambda's 250 MB")
        if not names:
            failures.append(f"{package.name}: no function uses it")
    if any(size > ZIPPED_LIMIT for _, size, *_ in rows):
        print(
            "Over 50 MB zipped: Lambda's limit for a zip uploaded directly (aws lambda update-function-code "
            "--zip-file); `sam deploy` uploads the packages to S3, where only the 250 MB unzipped limit applies."
        )
    if failures:
        raise SystemExit("\n".join(failures))


if __name__ == "__main__":
    main()
