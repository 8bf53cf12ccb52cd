"""Stems render as Markdown and can never carry script into a page."""

from examsvc.bank.render import to_html


def test_markdown_code_and_tables_render() -> None:
    html = to_html("阅读代码：\n\n```html\n<p>hi</p>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<pre><code" in html and "&lt;p&gt;hi&lt;/p&gt;" in html
    assert "<table>" in html


def test_raw_html_and_script_urls_are_neutralised() -> None:
    html = to_html(
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html
    assert "href" not in html  # the javascript: link stays text
    assert "<img" not in html  # raw HTML is shown as text, never as an element


def test_images_resolve_only_through_the_given_mapping() -> None:
    html = to_html(
        "![图](images/a.png) ![外](http://evil.example/x.png)",
        lambda n: "/att/1" if n == "a.png" else None,
    )
    assert 'src="/att/1"' in html
    assert "evil.example" not in html
