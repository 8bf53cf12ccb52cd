"""Benchmark: certificates issued per second, and verify requests per second beside a bare Flask
endpoint measured in the same run.

Run ``python -m bench.certificates``. It prints one JSON line per part, then a summary:

``issue_cpu``  per certificate, the CPU time of signing (claims → CBOR → Ed25519 COSE_Sign1 →
               base32), of verifying, of the QR code alone, of the PNG (layout, QR, painting,
               PNG encoding), of a one-page PDF and of a page in a plan's PDF; ``per_cpu_s`` is
               certificates per CPU second for sign + QR + PNG, i.e. per core.
``issue_db``   ``issue_plan`` on SQLite for the released passes of a plan (sign, number and
               status-index allocation, inserts, audit, commit), without rendering.
``verify_http`` requests per second under ``gunicorn -k eventlet -w 1`` (one core each), loaded
               by ``--clients`` concurrent aiohttp clients for ``--seconds``: the product's
               ``/v/<token>`` page and ``/api/v1/verify/<token>``, and the bare app's constant
               ``/v/<token>`` and ``/pure/<token>`` (pure ``verify()`` only); ratios product ÷
               bare. The load generator shares the machine: compare ratios, not seconds.

Nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp

from examsvc.certificates.keystore import KeyStore
from examsvc.certificates.render import CertificateData, qr_image, render_pdf, render_png
from examsvc.certificates.token import Claims, sign, verify, verify_url
from examsvc.plans.admission_ticket import find_cjk_font

from .delivery_servers import Server

BASE = "https://cert.example.cn"
SECRET = "bench-certificates"


def cpu(action: Callable[[], object], repeat: int) -> float:
    """CPU seconds per call of ``action`` (median of ``repeat`` calls)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def claims(n: int) -> Claims:
    return Claims(
        number=f"S000132000001{date.today().year % 100:02d}5{n:06d}",
        name="欧阳明轩",
        id_last4="002X",
        certificate="web-frontend",
        level=5,
        issued=date.today(),
        status_list=f"S0001-{date.today().year}",
        status_index=n,
        signed_at=datetime.now(UTC).replace(microsecond=0),
    )


def issue_cpu(store: KeyStore, count: int) -> dict[str, Any]:
    """CPU cost per certificate of each step, and of sign + QR + PNG together."""
    key = store.signing_key()
    keyset = store.keyset()
    font = find_cjk_font(os.environ.get("EXAMSVC_CJK_FONT"))
    signed = sign(claims(1), key)
    url = verify_url(BASE, signed.token)
    data = CertificateData(
        number=claims(1).number,
        check_code=signed.check_code,
        name="欧阳明轩",
        id_number="11010519491231002X",
        certificate="Web 前端开发",
        level="初级",
        issued=date.today(),
        organization="工业和信息化部教育与考试中心",
        verify_url=url,
    )
    render_png(data, font=font)  # warm the font caches
    counter = iter(range(1, 10**9))
    sign_s = cpu(lambda: sign(claims(next(counter)), key), count * 10)
    verify_s = cpu(lambda: verify(signed.token, keyset, datetime.now(UTC)), count * 10)
    qr_s = cpu(lambda: qr_image(url), count)
    png_s = cpu(lambda: render_png(data, font=font), count)
    pdf_s = cpu(lambda: render_pdf([data], font=font), max(3, count // 4))
    batch = max(10, count)
    batch_s = cpu(lambda: render_pdf([data] * batch, font=font), 3) / batch

    def pipeline() -> bytes:
        token = sign(claims(next(counter)), key)
        return render_png(replace(data, verify_url=verify_url(BASE, token.token)), font=font)

    start = time.process_time()
    for _ in range(count):
        pipeline()
    total = time.process_time() - start
    return {
        "part": "issue_cpu",
        "certificates": count,
        "sign_ms": round(sign_s * 1000, 3),
        "verify_ms": round(verify_s * 1000, 3),
        "qr_ms": round(qr_s * 1000, 2),
        "png_ms": round(png_s * 1000, 1),
        "pdf_ms": round(pdf_s * 1000, 1),
        "pdf_batch_ms_per_page": round(batch_s * 1000, 1),
        "sign_qr_png_ms": round(total / count * 1000, 1),
        "per_cpu_s": round(count / total, 2),
        "url_chars": len(url),
    }


def build_database(folder: Path, runs: int) -> tuple[str, list[str], dict[str, Any]]:
    """A SQLite database with the demo plan's 30 candidates passed and released; issues their
    certificates ``runs`` times (deleting them in between) and times each run."""
    from flask_migrate import upgrade
    from sqlalchemy import delete, select

    from examsvc import create_app
    from examsvc.auth.roles import Role
    from examsvc.auth.services import create_user
    from examsvc.catalog.services import ensure_organization
    from examsvc.certificates import services
    from examsvc.certificates.models import IssuedCertificate
    from examsvc.certificates.settings import save_issuer
    from examsvc.config import ROOT
    from examsvc.demo import OWNERS, load_catalog
    from examsvc.extensions import db
    from examsvc.grading.models import Result
    from examsvc.plans.demo import BATCH, load_demo_plan
    from examsvc.plans.models import ExamPlan

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "CERT_KEYS_DIR": folder / "keys"}
    )
    with app.app_context():
        upgrade()
        org = ensure_organization("miit-eec", "工业和信息化部教育与考试中心")
        ensure_organization("college", "示范职业技术学院", "institution")
        load_catalog(ROOT / "question_banks", OWNERS | {"*": "miit-eec"})
        admin = create_user("admin", SECRET, "管理员", {Role.ORG_ADMIN}, org.id)
        load_demo_plan("miit-eec", "college")
        plan = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
        assert plan is not None
        save_issuer(org, {"body_type": "S", "body_code": "0001", "province": "32"}, admin)
        for reg in plan.registrations:
            db.session.add(
                Result(registration_id=reg.id, status="passed", released_at=datetime.now(UTC))
            )
        db.session.commit()
        seconds = []
        for run in range(runs):
            if run:
                db.session.execute(delete(IssuedCertificate))
                db.session.commit()
            start = time.perf_counter()
            report = services.issue_plan(plan, admin, datetime.now(UTC))
            db.session.commit()
            seconds.append(time.perf_counter() - start)
        tokens = [c.token for c in report.issued]
        best = min(seconds)
        figures = {
            "part": "issue_db",
            "certificates": len(tokens),
            "runs": runs,
            "best_s": round(best, 4),
            "median_s": round(statistics.median(seconds), 4),
            "per_s": round(len(tokens) / best, 1),
        }
    return url, tokens, figures


async def load(url: str, tokens: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` concurrent clients requesting ``url % token`` for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(n: int) -> None:
            nonlocal errors
            i = n
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    async with session.get(url % tokens[i % len(tokens)]) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - start)
                i += clients

        await asyncio.gather(*(client(n) for n in range(clients)))
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "per_s": round(count / seconds, 1),
        "errors": errors,
        "p50_ms": round(latencies[count // 2] * 1000, 1) if count else None,
        "p99_ms": round(latencies[int(count * 0.99)] * 1000, 1) if count else None,
    }


def measure(server: Server, path: str, tokens: list[str], args: argparse.Namespace) -> dict:
    asyncio.run(load(server.url + path, tokens, args.clients, 1.0))  # warm-up
    before = server.cpu_seconds()
    figures = asyncio.run(load(server.url + path, tokens, args.clients, args.seconds))
    spent = server.cpu_seconds() - before
    figures["server_cpu_ms_per_request"] = (
        round(spent / figures["requests"] * 1000, 3) if figures["requests"] else None
    )
    return figures


def verify_http(
    folder: Path, database: str, tokens: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    keys = str(folder / "keys")
    common = {"SECRET_KEY": SECRET, "CERT_KEYS_DIR": keys, "RATELIMIT_ENABLED": "0"}
    product = Server(
        "wsgi:app",
        common | {"DATABASE_URL": database, "DELIVERY_SCHEDULER": "0"},
        folder / "product.log",
    )
    bare = Server("bench.certificates_bare:app", common, folder / "bare.log")
    results: dict[str, Any] = {"part": "verify_http", "clients": args.clients}
    try:
        product.start("/healthz")
        bare.start("/v/x")
        bare_first = measure(bare, "/v/%s", tokens, args)
        results["product_page"] = measure(product, "/v/%s", tokens, args)
        results["product_api"] = measure(product, "/api/v1/verify/%s", tokens, args)
        results["bare_pure_verify"] = measure(bare, "/pure/%s", tokens, args)
        bare_again = measure(bare, "/v/%s", tokens, args)
    finally:
        product.stop()
        bare.stop()
    results["bare_page"] = bare_first | {
        "per_s": round((bare_first["per_s"] + bare_again["per_s"]) / 2, 1),
        "per_s_runs": [bare_first["per_s"], bare_again["per_s"]],
    }
    ceiling = results["bare_page"]["per_s"]
    results["ratios"] = {
        name: round(results[name]["per_s"] / ceiling, 3)
        for name in ("product_page", "product_api", "bare_pure_verify")
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="certificates rendered per figure")
    parser.add_argument("--runs", type=int, default=5, help="database issuing runs")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--no-http", action="store_true", help="skip the server part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cert-") as tmp:
        folder = Path(tmp)
        store = KeyStore(folder / "keys")
        store.generate(datetime.now(UTC))
        cpu_line = issue_cpu(store, args.count)
        print(json.dumps(cpu_line, ensure_ascii=False), flush=True)
        database, tokens, db_line = build_database(folder, args.runs)
        print(json.dumps(db_line, ensure_ascii=False), flush=True)
        if not args.no_http:
            http_line = verify_http(folder, database, tokens, args)
            print(json.dumps(http_line, ensure_ascii=False), flush=True)
            r = http_line["ratios"]
            print(
                f"# sign+QR+PNG: {cpu_line['per_cpu_s']} certificates per CPU second; "
                f"issue_plan on SQLite: {db_line['per_s']}/s; verify page {r['product_page']:.0%}, "
                f"verify API {r['product_api']:.0%}, pure verify {r['bare_pure_verify']:.0%} "
                f"of the bare Flask page ({http_line['bare_page']['per_s']} req/s)"
            )


if __name__ == "__main__":
    main()
