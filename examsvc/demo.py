"""The demo data set: organizations, catalog, sample banks and one user per role.

Loading is idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .assembly.services import load_blueprint_file
from .auth.models import User
from .auth.roles import Role
from .auth.services import create_user
from .bank.services import import_bank
from .bank.yaml_format import read_bank_dir
from .catalog.services import ensure_organization, load_scheme_file, load_standard_file
from .catalog.standards import load_standard
from .certificates.demo import load_demo_certificates
from .extensions import db
from .grading.demo import load_demo_results
from .plans.demo import load_demo_plan
from .registration.services import load_rules_file

ORGANIZATIONS = {
    "miit-eec": ("工业和信息化部教育与考试中心", "evaluation"),
    "cflp": ("中国物流与采购联合会", "evaluation"),
    "demo-college": ("示范职业技术学院", "institution"),
}
OWNERS = {"web-frontend": "miit-eec", "logistics": "cflp"}
PASSWORD = "examsvc-demo"
USERS = [
    ("admin", "机构管理员 王敏", {Role.ORG_ADMIN}, "miit-eec"),
    ("author", "命题员 李强", {Role.AUTHOR}, "miit-eec"),
    ("reviewer", "审题员 张华", {Role.REVIEWER}, "miit-eec"),
    ("rater", "考评员 赵磊", {Role.RATER}, "miit-eec"),
    ("rater2", "考评员 孙悦", {Role.RATER}, "miit-eec"),
    ("siteadmin", "考点管理员 陈静", {Role.SITE_ADMIN}, "demo-college"),
    ("invigilator", "监考员 刘洋", {Role.INVIGILATOR}, "demo-college"),
    ("logistics-admin", "机构管理员 周婷", {Role.ORG_ADMIN}, "cflp"),
]


def load_catalog(root: Path, owners: dict[str, str]) -> int:
    """Load every standard under ``root/standards``, every scheme under ``root/schemes`` and the
    eligibility rules (报考条件) under ``root/eligibility``; returns the number of standards."""
    count = 0
    for path in sorted((root / "standards").glob("*/*.yaml")):
        certificate = load_standard(path).certificate
        code = owners.get(certificate) or owners["*"]
        org = ensure_organization(code, ORGANIZATIONS.get(code, (code, ""))[0])
        load_standard_file(org, path)
        count += 1
    for path in sorted((root / "schemes").glob("*.yaml")):
        load_scheme_file(path)
    for path in sorted((root / "eligibility").glob("*.yaml")):
        load_rules_file(path)
    return count


def load_blueprints(root: Path) -> list[str]:
    """Store each blueprint of ``root/blueprints`` for its scheme, unless one of that name is
    there already (staff edits are kept)."""
    lines = []
    for path in sorted((root / "blueprints").glob("*.yaml")):
        row, created = load_blueprint_file(path)
        if row is not None:
            lines.append(f"细目表 {row.name}: {'新增' if created else '已有，未改动'}")
    return lines


def load_demo() -> list[str]:
    """Load the demo and return the lines to print (logins first)."""
    root = Path(current_app.config["QUESTION_BANKS_DIR"])
    for code, (name, kind) in ORGANIZATIONS.items():
        ensure_organization(code, name, kind)
    load_catalog(root, OWNERS | {"*": "miit-eec"})
    lines = []
    for bank_dir in sorted(p.parent for p in root.glob("*/bank.yaml")):
        data, _ = read_bank_dir(bank_dir, root)
        report = import_bank(data, None)
        lines.append(
            f"题库 {data.code}: 新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}"
        )
    lines += load_blueprints(root)
    orgs = {code: ensure_organization(code, name) for code, (name, _) in ORGANIZATIONS.items()}
    lines.append(f"演示账号（密码均为 {PASSWORD}）：")
    for username, name, roles, org in USERS:
        if db.session.scalar(select(User).where(User.username == username)) is None:
            create_user(username, PASSWORD, name, roles, orgs[org].id)
        lines.append(f"  {username:<16} {name}（{', '.join(sorted(roles))}）")
    lines += load_demo_plan("miit-eec", "demo-college")
    lines += load_demo_results("miit-eec", "demo-college", PASSWORD)
    lines += load_demo_certificates("miit-eec")
    db.session.commit()
    return lines
