"""The candidate's exam page: their own items with the labels shown in their shuffled order, and
never the answer key, the explanation or the rubric — neither in the page nor in /exam/api/state."""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import fields
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from examsvc.bank.convert import version_data
from examsvc.bank.model import OPTION_KEYS
from examsvc.bank.models import Attachment
from examsvc.bank.render import to_html
from examsvc.delivery import paper_routes
from examsvc.delivery.paper import CACHE, candidate_paper
from examsvc.delivery.paper_routes import FRAGMENTS, item_words
from examsvc.delivery.services import ShownItem, paper_items
from examsvc.extensions import db
from examsvc.registration.models import Registration
from tests.e2e.test_exam_http import _signed_in, reg  # noqa: F401 (fixture)


def _started(app: Flask, registration: Registration, part: str = "theory") -> FlaskClient:
    client = _signed_in(app, registration)
    client.get("/exam/")  # the waiting room admits
    answer = client.post(f"/exam/api/{part}/start")
    assert answer.status_code == 200, answer.get_json()
    return client


def _article(page: str, position: int) -> str:
    match = re.search(rf'<article [^>]*id="q-{position}".*?</article>', page, re.S)
    assert match, f"item {position} is not on the page"
    return match.group(0)


CJK = re.compile("[\u4e00-\u9fff]")


def _client_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="exam-data">(.*?)</script>', page, re.S)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _keys(value: object) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _text(page: str) -> str:
    """The page as text: tags dropped, entities decoded (what a candidate could read)."""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def _secrets(item: ShownItem) -> list[str]:
    """Lines of the explanation and the rubric that the candidate's own stem does not contain."""
    data = version_data(item.version.item, item.version)
    shown = "\n".join([data.stem, data.title, *(text for _, text in data.options), *data.materials])
    texts = [data.explanation]
    for c in data.rubric:
        texts += [c.criterion, c.guide]
    out = []
    for text in texts:
        for line in text.splitlines():
            line = line.strip(" -*`>#")
            # Lines of prose (with Chinese): code lines of a reference answer may equal the
            # page's own markup, such as <html lang="zh-CN">.
            if len(line) >= 8 and CJK.search(line) and line not in shown:
                out.append(line)
    return out


def _assert_nothing_secret(document: str, shown: list[ShownItem]) -> None:
    text = _text(document)
    checked = 0
    for item in shown:
        for line in _secrets(item):
            assert line not in document and line not in text, (item.view.position, line)
            checked += 1
        explanation = item.version.explanation.strip()
        if explanation:
            assert str(to_html(explanation)) not in document
    assert checked > 50  # the explanations and rubrics really were compared


def test_page_shows_own_items_with_shuffled_labels_and_no_key(
    app: Flask,
    reg: Registration,  # noqa: F811
) -> None:
    client = _started(app, reg)
    page = client.get("/exam/paper/theory").get_data(as_text=True)
    assert reg.candidate.name in page and str(reg.ticket_number) in page
    shown = paper_items(reg)
    theory = [i for i in shown if i.view.part == "theory"]
    assert theory and [i.view.position for i in theory] == sorted(i.view.position for i in theory)
    # items in position order, numbered 1…n on the page
    found = [int(p) for p in re.findall(r'<article [^>]*id="q-(\d+)"', page)]
    assert found == [i.view.position for i in theory]
    shuffled = 0
    for item in theory:
        article = _article(page, item.view.position)
        data = version_data(item.version.item, item.version)
        if item.view.item_type == "truefalse":
            assert re.findall(r'value="(true|false)"', article) == ["true", "false"]
            continue
        options = re.findall(
            rf'<input type="(?:radio|checkbox)" name="q{item.view.position}" value="([A-H])"> '
            r"<b>([A-H])\.</b> (.*?)</label>",
            article,
            re.S,
        )
        labels = [value for value, _, _ in options]
        assert labels == list(OPTION_KEYS[: len(data.options)])  # A, B, C … as shown
        assert all(value == shown_label for value, shown_label, _ in options)
        expected = [str(to_html(data.option_map[key], inline=True)) for key in item.view.order]
        assert [body.strip() for _, _, body in options] == expected  # the candidate's order
        shuffled += item.view.order != item.view.labels
        # nothing is ticked and no attribute gives away the key
        assert " checked" not in article
        assert not re.search(r"data-(answer|key|correct)|class=\"[^\"]*correct", article)
    assert shuffled > 10  # the options really are in a shuffled order
    # choice items need no code editor: its 570 kB are not sent to every candidate at the start
    scripts = re.findall(r"<script src=\"[^\"]*/(\w+/[\w.]+\.js)(?:\?v=\w+)?\"", page)
    assert scripts == ["vendor/socket.io.min.js", "js/exam.js"]
    # the script's data: positions, types and labels, never a key
    client_data = _client_data(page)
    assert [i["position"] for i in client_data["items"]] == [i.view.position for i in theory]
    assert not _keys(client_data) & {"answer", "key", "explanation", "rubric", "correct"}
    for entry, item in zip(client_data["items"], theory, strict=True):
        assert item.version.answer not in entry.values() or not item.version.answer
    _assert_nothing_secret(page, theory)


def test_practical_page_has_materials_editor_and_sandboxed_preview(
    app: Flask,
    reg: Registration,  # noqa: F811
) -> None:
    client = _started(app, reg, "practical")
    page = client.get("/exam/paper/practical").get_data(as_text=True)
    practical = [i for i in paper_items(reg) if i.view.part == "practical"]
    assert practical
    _assert_nothing_secret(page, practical)
    assert 'class="editor-mount" data-language="html"' in page
    assert re.search(r"<script src=\"[^\"]*/vendor/editor\.min\.js[?\"]", page)  # its code editor
    # the preview: scripts only, never same-origin (the candidate's code cannot reach the page)
    frames = re.findall(r"<iframe[^>]*>", page)
    assert frames and all('sandbox="allow-scripts"' in f for f in frames)
    assert "allow-same-origin" not in page
    links = re.findall(r'href="(/exam/paper/practical/files/\d+)"', page)
    assert links
    download = client.get(links[0])
    assert download.status_code == 200 and download.data
    assert "attachment" in download.headers["Content-Disposition"]
    # theory is not in progress now: its page sends the candidate back to the waiting room
    assert client.get("/exam/paper/theory").location.endswith("/exam/")


def test_state_json_has_no_key_and_shows_labels(app: Flask, reg: Registration) -> None:  # noqa: F811
    client = _started(app, reg)
    single = next(i for i in paper_items(reg) if i.view.item_type == "single")
    change = {"seq": 1, "position": single.view.position, "value": "A", "flagged": True}
    assert client.post("/exam/api/theory/answers", json=change).get_json()["outcome"] == "saved"
    state = client.get("/exam/api/state").get_json()
    assert not _keys(state) & {"answer", "key", "explanation", "rubric", "correct"}
    (theory,) = [p for p in state["parts"] if p["part"] == "theory"]
    assert theory["answers"] == [
        {"position": single.view.position, "value": "A", "flagged": True, "seq": 1}
    ]
    _assert_nothing_secret(json.dumps(state, ensure_ascii=False), paper_items(reg))
    # the page starts from what is saved
    page = client.get("/exam/paper/theory").get_data(as_text=True)
    assert _client_data(page)["initial"]["answers"][0]["value"] == "A"


def test_another_candidates_paper_is_not_reachable(app: Flask, reg: Registration) -> None:  # noqa: F811
    other = next(
        r
        for r in reg.plan.registrations
        if r.id != reg.id and r.paper_id is not None and r.paper_id != reg.paper_id
    )
    mine = _started(app, reg, "practical")
    theirs = _started(app, other, "practical")
    page = theirs.get("/exam/paper/practical").get_data(as_text=True)
    assert other.candidate.name in page and reg.candidate.name not in page
    assert str(reg.ticket_number) not in page
    positions = [i.view.position for i in paper_items(other) if i.view.part == "practical"]
    assert [i["position"] for i in _client_data(page)["items"]] == positions
    # a file of my paper that is not in theirs cannot be fetched with their sign-in
    my_versions = {i.version.id for i in paper_items(reg)}
    their_versions = {i.version.id for i in paper_items(other)}
    only_mine = db.session.scalars(
        select(Attachment.id).where(Attachment.version_id.in_(my_versions - their_versions))
    ).first()
    if only_mine is not None:
        url = f"/exam/paper/practical/files/{only_mine}"
        assert mine.get(url).status_code == 200
        assert theirs.get(url).status_code == 404
    # and nothing of a bank outside every paper
    assert theirs.get("/exam/paper/practical/files/999999").status_code == 404


def test_signed_out_visitors_go_to_the_sign_in_page(app: Flask, reg: Registration) -> None:  # noqa: F811
    anonymous = app.test_client()
    for url in ("/exam/paper/theory", "/exam/paper/practical/files/1", "/exam/photo"):
        answer = anonymous.get(url)
        assert answer.status_code == 302 and answer.location.endswith("/exam/login"), url


def test_waiting_room_offers_start_then_continue(app: Flask, reg: Registration) -> None:  # noqa: F811
    client = _signed_in(app, reg)
    home = client.get("/exam/").get_data(as_text=True)
    assert (
        'data-start="/exam/api/theory/start"' in home and 'data-page="/exam/paper/theory"' in home
    )
    # before the start, the page is not open yet
    assert client.get("/exam/paper/theory").location.endswith("/exam/")
    assert client.get("/exam/paper/nonsense").status_code == 404
    client.post("/exam/api/theory/start")
    home = client.get("/exam/").get_data(as_text=True)
    assert 'href="/exam/paper/theory"' in home and 'data-start="/exam/api/theory/start"' not in home
    assert client.get("/exam/paper/theory").status_code == 200
    client.post("/exam/api/theory/submit")
    assert client.get("/exam/paper/theory").location.endswith("/exam/")


def _page(client: FlaskClient, url: str) -> str:
    """A page without what changes on every request (the CSRF token, the clock)."""
    text = client.get(url).get_data(as_text=True)
    text = re.sub(r'("csrf": ")[^"]+', r"\1", text)
    return re.sub(r'"(server_time|deadline|remaining_ms)": \d+', r'"\1": 0', text)


def test_rendered_items_are_kept_per_version_and_equal_a_fresh_rendering(
    app: Flask,
    reg: Registration,  # noqa: F811
) -> None:
    client = _started(app, reg)
    fresh = _page(client, "/exam/paper/theory")
    kept: dict[tuple[int, str], Any] = app.extensions[CACHE]
    theory = [i for i in paper_items(reg) if i.view.part == "theory"]
    assert {(i.version.id, "theory") for i in theory} <= set(kept)
    assert _page(client, "/exam/paper/theory") == fresh  # from what is kept
    kept.clear()
    assert _page(client, "/exam/paper/theory") == fresh  # rendered again: the same
    # another candidate shares versions with this paper: the kept ones are not rendered again
    other = next(r for r in reg.plan.registrations if r.paper_id not in (None, reg.paper_id))
    before = dict(kept)
    page = _page(_started(app, other), "/exam/paper/theory")
    assert all(kept[key] is content for key, content in before.items())
    assert other.candidate.name in page and reg.candidate.name not in page


def test_kept_items_hold_no_key_and_serve_both_languages(
    app: Flask,
    reg: Registration,  # noqa: F811
) -> None:
    client = _started(app, reg, "practical")
    client.get("/exam/?lang=en")
    english = client.get("/exam/paper/practical").get_data(as_text=True)
    client.get("/exam/?lang=zh")
    chinese = client.get("/exam/paper/practical").get_data(as_text=True)
    assert "Flag for review" in english and "Your answer" in english and "第 1 题" not in english
    assert "标记" in chinese and "第 1 题" in chinese and "Flag for review" not in chinese
    # the script's text too, each language's kept apart
    assert _client_data(english)["strings"]["saved"] == "Saved"
    assert _client_data(chinese)["strings"]["saved"] not in ("Saved", "")
    kept = app.extensions[CACHE]
    practical = [i for i in paper_items(reg) if i.view.part == "practical"]
    assert {(i.version.id, "practical") for i in practical} <= set(kept)
    # what is kept is what the page shows: no key, explanation or rubric in any of it
    assert {f.name for f in fields(next(iter(kept.values())))} == {
        "type", "stem", "options", "title", "materials", "language", "upload_types"
    }  # fmt: skip
    _assert_nothing_secret(repr(list(kept.values())), practical)
    for item in practical:
        rubric = version_data(item.version.item, item.version).rubric
        assert rubric and all(
            c.guide not in repr(kept[item.version.id, "practical"]) for c in rubric
        )


def test_items_from_kept_fragments_equal_each_item_rendered_whole(
    app: Flask,
    reg: Registration,  # noqa: F811
) -> None:
    other = next(r for r in reg.plan.registrations if r.id != reg.id and r.paper_id)
    for who, part in ((reg, "theory"), (other, "practical")):
        page = _started(app, who, part).get(f"/exam/paper/{part}").get_data(as_text=True)
        assert app.extensions[FRAGMENTS]  # the choice items came from fragments
        with app.test_request_context():
            sheet = candidate_paper(
                who, part, lambda a, p=part: url_for("exam_paper.file", part=p, att_id=a)
            )
            words = item_words()
            whole = "".join(
                paper_routes._render_item(
                    i, str(i.position), str(i.number), paper_routes._points(i), part, words
                )
                for i in sheet.items
            )
        assert whole in page, part
        # the kept fragments hold stand-ins, never another paper's positions or options
        for pieces in app.extensions[FRAGMENTS].values():
            fragment = "".join(pieces)
            assert (
                paper_routes.POSITION in fragment and 'id="q-' + paper_routes.POSITION in fragment
            )
